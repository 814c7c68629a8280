## gst-pipelines/gst.mk -- the transcoder: GStreamer pipelines run in forked children.
