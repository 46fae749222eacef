-- boxq schema, version 9: qsub -S (the script's interpreter) and
-- -W umask= (the mask of the files the job creates), as Torque and PBS Pro
-- scripts give them; "" for the defaults (the #! line or sh; 022).
ALTER TABLE jobs ADD COLUMN shell TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN umask TEXT NOT NULL DEFAULT '';
