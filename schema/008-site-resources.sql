-- boxq schema, version 8: resources as other batch systems write them.
-- nodes: how many nodes or chunks a job asked for (Torque's nodes=2:ppn=4,
-- PBS Pro's select=2:...), merged on this machine (PBS_NUM_NODES, the
-- lines of PBS_NODEFILE); resources: every resource but boxq's own five,
-- "name=value,..." as written, shown in qstat's Resource_List.
ALTER TABLE jobs ADD COLUMN nodes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN resources TEXT NOT NULL DEFAULT '';
