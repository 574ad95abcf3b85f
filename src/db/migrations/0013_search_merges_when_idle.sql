-- The search indexes merge their segments while the writer is idle, not inside writes.
--
-- FTS5's 'automerge' makes every write that flushes segments do a step of merging as well:
-- on the large demo every 64th create paid 12-40 ms for it (create mean 0.82 ms for a
-- median of 0.27). With it off, the writer merges whenever no write is waiting, a few pages
-- at a time (`search::tidy_step`, the same merging by the same rule: a level is merged once
-- it holds four segments), so a write waits for one such step at most. Under writes that
-- never pause, 'crisismerge' (64, migration 0012) still bounds the segments of a level.
INSERT INTO search_words (search_words, rank) VALUES ('automerge', 0);
INSERT INTO search_trigrams (search_trigrams, rank) VALUES ('automerge', 0);
