-- The search indexes merge their segments a step at a time, never a whole level at once.
--
-- FTS5 keeps each index as levels of segments. Every write does a bounded step of merging
-- ('automerge'), but once a level holds 'crisismerge' segments (16 by default) it merges
-- that level in one go, inside the write that tipped it, and the merge climbs level after
-- level. After a bulk load (`rapport demo`, an import's compaction) the index is one large
-- segment, and on the large demo the 336th lead created after it rewrote all 215 MB of the
-- trigram index in one transaction: a 2.2 s commit and 205 MB of WAL. With 64, no level
-- filled up in 3,000 creates: the same rewrite went by in the step-wise merges (steps of
-- 15-40 ms, one every 64 creates, the longest 260 ms), and the in-process create took 0.7 ms
-- on average instead of 1.5-2.2 ms (benches/README.md). Searches read a few more small
-- segments meanwhile. The server's writer, which commits a batch of creates at a time,
-- makes far fewer segments and measured the same create throughput either way.
INSERT INTO search_words (search_words, rank) VALUES ('crisismerge', 64);
INSERT INTO search_trigrams (search_trigrams, rank) VALUES ('crisismerge', 64);
