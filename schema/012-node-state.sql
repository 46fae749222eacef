-- boxq schema, version 12: the server's own settings that outlive a
-- restart, such as the node being offline (pbsnodes -o) and its note.
CREATE TABLE server_attrs (
  name TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;
