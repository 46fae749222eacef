-- boxq schema, version 11: qsub -W group_list= as written; the group it
-- names (when the owner is a member) is the job's owner_gid.
ALTER TABLE jobs ADD COLUMN group_list TEXT NOT NULL DEFAULT '';
