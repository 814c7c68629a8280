-- 004_catalogue.sql -- the video catalogue: videos, their HLS renditions, the catalogue version.
-- Timestamps are microseconds since the epoch; booleans INTEGER 0/1.

CREATE TABLE videos (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    title         TEXT    NOT NULL CHECK (title <> ''),
    description   TEXT    NOT NULL DEFAULT '',
    category      TEXT    NOT NULL CHECK (category <> ''),
    created_at    BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL,
    source_path   TEXT    NOT NULL DEFAULT '',
    has_thumbnail INTEGER NOT NULL DEFAULT 0 CHECK (has_thumbnail IN (0, 1)),
    state         TEXT    NOT NULL DEFAULT 'uploaded'
                  CHECK (state IN ('uploaded', 'processing', 'ready', 'failed')),
    duration_ms   BIGINT  NOT NULL DEFAULT 0 CHECK (duration_ms >= 0),
    width         INTEGER NOT NULL DEFAULT 0 CHECK (width >= 0),
    height        INTEGER NOT NULL DEFAULT 0 CHECK (height >= 0),
    error         TEXT    NOT NULL DEFAULT ''
);

-- The list query: ready videos, newest first, ties higher id first.
CREATE INDEX videos_ready_newest ON videos (created_at DESC, id DESC) WHERE state = 'ready';

CREATE TABLE video_renditions (
    video_id      INTEGER NOT NULL REFERENCES videos (id) ON DELETE CASCADE,
    height        INTEGER NOT NULL CHECK (height > 0),
    width         INTEGER NOT NULL CHECK (width > 0),
    bandwidth     BIGINT  NOT NULL CHECK (bandwidth >= 0),
    avg_bandwidth BIGINT  NOT NULL CHECK (avg_bandwidth >= 0),
    codecs        TEXT    NOT NULL DEFAULT '',
    PRIMARY KEY (video_id, height)
);

-- One row: bumped in the same transaction as every write to the two tables above
-- (triggers, so direct SQL by a sysadmin invalidates the list caches too).
CREATE TABLE catalogue_version (
    id      INTEGER PRIMARY KEY CHECK (id = 1),
    version BIGINT  NOT NULL
);
INSERT INTO catalogue_version (id, version) VALUES (1, 1);

CREATE TRIGGER videos_bump_ins AFTER INSERT ON videos BEGIN
    UPDATE catalogue_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER videos_bump_upd AFTER UPDATE ON videos BEGIN
    UPDATE catalogue_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER videos_bump_del AFTER DELETE ON videos BEGIN
    UPDATE catalogue_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER video_renditions_bump_ins AFTER INSERT ON video_renditions BEGIN
    UPDATE catalogue_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER video_renditions_bump_upd AFTER UPDATE ON video_renditions BEGIN
    UPDATE catalogue_version SET version = version + 1 WHERE id = 1;
END;
CREATE TRIGGER video_renditions_bump_del AFTER DELETE ON video_renditions BEGIN
    UPDATE catalogue_version SET version = version + 1 WHERE id = 1;
END;
