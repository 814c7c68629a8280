-- 006_renditions.sql (SQLite) -- a rendition row says what it is: its ladder rung (the directory
-- and URL name, "480p" = 480 pixels on the short side, also for portrait videos) and its frame
-- rate and that of its I-frame playlist, so the served master playlist is built from the rows
-- alone (issue 14).
ALTER TABLE video_renditions ADD COLUMN name TEXT NOT NULL DEFAULT ''
    CHECK (length(name) <= 7);
-- Frames per second x 1000 (29.97 -> 29970); 0 = unknown (rows written before this migration).
ALTER TABLE video_renditions ADD COLUMN frame_rate_milli INTEGER NOT NULL DEFAULT 0
    CHECK (frame_rate_milli >= 0);
-- The peak rate of the rendition's I-frame playlist (iframes.m3u8, for scrubbing); 0 = none.
ALTER TABLE video_renditions ADD COLUMN iframe_bandwidth BIGINT NOT NULL DEFAULT 0
    CHECK (iframe_bandwidth >= 0);
-- The transcoder has always named a rendition directory by its rung, the short side in pixels:
-- the rows that exist get the same name.
UPDATE video_renditions SET name = CASE
    WHEN min(width, height) <= 480 THEN '480p'
    WHEN min(width, height) <= 720 THEN '720p'
    ELSE '1080p' END;
