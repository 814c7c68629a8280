/* media.h -- the layout of MEDIA_ROOT and what a probe learns of a media file. */
#ifndef VF_MEDIA_H
#define VF_MEDIA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * MEDIA_ROOT holds four directories, and nothing else of ours builds their paths:
 *   uploads/<32 hex>.<ext>     sources as uploaded (never served)
 *   staging/<id>.<random>/     a transcode's output until it is published (never served)
 *   hls/<id>/<res>/...         published renditions (served after the cookie or signature check)
 *   thumbnails/<id>.jpg        public thumbnails (served by the web server)
 */
enum media_dir { MEDIA_UPLOADS, MEDIA_STAGING, MEDIA_HLS, MEDIA_THUMBNAILS };

/* What a probe found in a media file (gst-pipelines/probe.c fills it). */
struct media_info {
    double duration;   /* seconds */
    int width, height; /* display size: corrected for a non-square pixel aspect, and swapped
                        * when the source says to show it turned by 90 or 270 degrees */
    double fps;        /* 0 when the container does not say */
    int rotation;      /* degrees clockwise the picture is turned for display: 0, 90, 180, 270 */
    bool interlaced;   /* coded as fields (the transcoder deinterlaces) */
    bool has_audio;
    bool has_video;
};

/*
 * The permission model.  The programs run as their own user (videoflix); the web server as
 * another (www-data), which must read exactly what it serves: published renditions,
 * thumbnails (and the panel, outside MEDIA_ROOT).  The web server's access is the *group* of
 * MEDIA_ROOT: the sysadmin makes it the web server's group and sets the setgid bit
 * (`install -d -o videoflix -g www-data -m 2750 MEDIA_ROOT`), so everything created below
 * inherits that group.  Then:
 *   MEDIA_ROOT, hls/, hls/<id>/..., thumbnails/   0750 dirs, 0640 files (group reads)
 *   uploads/, staging/                            0700 (group cannot enter)
 * (plus the setgid bit that new directories inherit; chmod() by an app user outside the
 * web server's group clears it on the published trees, which no longer matters there).
 * A transcode's staging directory (mkdtemp: 0700) is given the public modes just before it
 * is renamed into hls/ (media_publish_tree), so a rename never leaks its 0700 nor exposes a
 * half-written tree.  Modes are set explicitly, whatever the umask (the programs set 027).
 */
#define MEDIA_PUBLIC_DIR_MODE  02750
#define MEDIA_PUBLIC_FILE_MODE 0640
#define MEDIA_PRIVATE_DIR_MODE 02700 /* setgid kept: staging trees inherit the group */

/* Create `path` if it does not exist, with the mode of `d` (MEDIA_ROOT itself: pass
 * MEDIA_HLS for the public mode).  An existing directory is left as the sysadmin made it.
 * Returns 0, or -1 with errno. */
int media_mkdir(const char *path, enum media_dir d);
/* Give the tree at `path` the public modes (dirs 02750, regular files 0640); symlinks are
 * never followed.  Returns 0, or -1 with errno (the first failure). */
int media_publish_tree(const char *path);

/* The directory's name below MEDIA_ROOT ("uploads", "staging", "hls", "thumbnails"). */
const char *media_dir_name(enum media_dir d);

/* Each writes a path into buf and returns its length, or -1 when `len` is too small:
 *   media_dir_path        <root>/<dir>
 *   media_hls_path        <root>/hls/<id>
 *   media_thumbnail_path  <root>/thumbnails/<id>.jpg
 *   media_thumbnail_url   <public_url>/media/thumbnails/<id>.jpg (what clients fetch) */
int media_dir_path(const char *root, enum media_dir d, char *buf, size_t len);
int media_hls_path(const char *root, int64_t id, char *buf, size_t len);
int media_thumbnail_path(const char *root, int64_t id, char *buf, size_t len);
int media_thumbnail_url(const char *public_url, int64_t id, char *buf, size_t len);

#endif
