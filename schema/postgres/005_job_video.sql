-- 005_job_video.sql (PostgreSQL) -- a job names the video it concerns in a column, so the
-- admin queries join and filter on it instead of parsing the payload JSON.
ALTER TABLE jobs ADD COLUMN video_id BIGINT;
UPDATE jobs SET video_id = (payload::jsonb ->> 'video_id')::bigint WHERE kind = 'transcode';
CREATE INDEX jobs_video ON jobs (video_id, id) WHERE video_id IS NOT NULL;
