/* probe.h -- what a media file holds (duration, size, frame rate, audio), asked of GStreamer's
 * discoverer. */
#ifndef VF_PROBE_H
#define VF_PROBE_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "media.h" /* struct media_info */

/*
 * Probe a media file (an upload_probe_fn, lib/domain/upload.h) with GStreamer's discoverer in a
 * forked child (GStreamer is never initialised in the calling process).  VF_ERR_MEDIATYPE with a
 * one-line reason for files that are not a usable video (no video stream, zero duration, absurd
 * size); VF_ERR_TIMEOUT if it hangs (the child's process group is killed after timeout_s + 2
 * seconds); VF_ERR_IO/VF_ERR_INTERNAL when the child cannot run.
 */
enum vf_err probe_file(const char *path, int timeout_s, struct media_info *out, char *reason,
                       size_t len);

/*
 * The same checks in the calling process.  GStreamer must already be initialised (gst_init): call
 * this only in a transcoder child.
 */
enum vf_err probe_discover(const char *path, int timeout_s, struct media_info *out, char *reason,
                           size_t len);

#endif
