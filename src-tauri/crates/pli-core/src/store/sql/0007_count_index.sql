-- The side bar's unread/total counts and the size of a list count professional mail per folder
-- (`from_addr NOT LIKE '%@<patient domain>'`, a pattern no index can seek). With the sender and
-- the seen flag in an index next to the folder, those counts read this small index instead of
-- every row of the table (measured by `bench-app-seed --time`, tests/bench/app).
CREATE INDEX messages_folder_from_seen ON messages (folder_id, from_addr, seen);
