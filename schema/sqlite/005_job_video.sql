-- 005_job_video.sql (SQLite) -- a job names the video it concerns in a column, so the admin
-- queries join and filter on it instead of parsing the payload JSON.
ALTER TABLE jobs ADD COLUMN video_id INTEGER;
UPDATE jobs SET video_id = CAST(json_extract(payload, '$.video_id') AS INTEGER)
 WHERE kind = 'transcode';
CREATE INDEX jobs_video ON jobs (video_id, id) WHERE video_id IS NOT NULL;
