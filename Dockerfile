# Dockerfile -- Videoflix images, built in stages:
#   build    Debian 12 with the -dev packages; runs script/bootstrap (the same commands as a
#            developer machine and CI, restricted to script/packages.build) and installs into /out.
#   web      debian:12-slim with nginx serving www/ and passing /api/ to the app replicas.
#   runtime  debian:12-slim with only script/packages.runtime (shared libraries, GStreamer
#            plugins, cgi-fcgi for the health check); runs videoflix-fcgi, videoflix-worker or
#            videoflixctl as the unprivileged user "videoflix".  The last stage, so the default
#            target (docker compose: app, worker, migrate).
#
#   docker build -t videoflix .                 docker build --target web -t videoflix-web .

FROM debian:12 AS build
# The build packages first, in a layer of their own: it stays cached while only the sources
# change (script/bootstrap below then finds nothing missing).
COPY script/packages.build /usr/share/videoflix-packages.build
RUN apt-get update \
    && grep -v '^#' /usr/share/videoflix-packages.build \
       | xargs apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY . .
# Same entry point as on a developer machine: installs the build packages, autoreconf,
# configure, make.  Then install the tree that the runtime stage copies.
RUN PACKAGE_LISTS=script/packages.build BUILD_DIR=/src/build \
      CONFIGURE_FLAGS="--prefix=/usr --sysconfdir=/etc --localstatedir=/var" \
      script/bootstrap \
    && make -C /src/build install DESTDIR=/out \
    && rm -rf /var/lib/apt/lists/*

FROM debian:12-slim AS web
RUN apt-get update \
    && apt-get install -y --no-install-recommends nginx-light curl ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && rm -f /etc/nginx/sites-enabled/default \
    && ln -sf /dev/stdout /var/log/nginx/access.log \
    && ln -sf /dev/stderr /var/log/nginx/error.log \
    && install -d -o 10001 -g www-data -m 2750 /var/lib/videoflix/media \
       /var/lib/videoflix/media/hls /var/lib/videoflix/media/thumbnails \
    && install -d -o 10001 -g www-data -m 2700 /var/lib/videoflix/media/uploads \
       /var/lib/videoflix/media/staging
# MEDIA_ROOT as the runtime stage makes it (see there): an empty named volume takes the
# owner, mode and content of the first image that mounts it, whichever service that is.
COPY --from=build /out/usr/share/videoflix/www /usr/share/videoflix/www
# The same nginx template as for a host install (etc/nginx/videoflix.conf), rendered for
# FastCGI over TCP to every replica of the "app" service, resolved through the nameservers of
# the container's /etc/resolv.conf (Docker's 127.0.0.11, podman's gateway: whatever the
# engine gives it).  It is rendered again at start with those and the settings of .env
# (upload limit, CORS origins, the segment signing key shared with the app); the build-time
# rendering only checks it.
COPY etc/nginx/videoflix.conf /usr/share/videoflix/nginx-videoflix.conf.in
COPY etc/docker/render-nginx /usr/local/bin/videoflix-render-nginx
ENV VF_NGINX_ARGS="APP=app:9000 WWW_ROOT=/usr/share/videoflix/www MEDIA_ROOT=/var/lib/videoflix/media"
RUN videoflix-render-nginx /usr/share/videoflix/nginx-videoflix.conf.in \
      /etc/nginx/conf.d/videoflix.conf $VF_NGINX_ARGS \
    && nginx -t
EXPOSE 80
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["curl", "-fsS", "-o", "/dev/null", "http://127.0.0.1/api/health/"]
CMD ["/bin/sh", "-c", "videoflix-render-nginx /usr/share/videoflix/nginx-videoflix.conf.in /etc/nginx/conf.d/videoflix.conf $VF_NGINX_ARGS UPLOAD_MAX_BYTES=${UPLOAD_MAX_BYTES:-8G} CORS_ALLOWED_ORIGINS=${CORS_ALLOWED_ORIGINS:-http://127.0.0.1:5500,http://localhost:5500} MEDIA_SIGNING_KEY=${MEDIA_SIGNING_KEY:-} && exec nginx -g 'daemon off;'"]

FROM debian:12-slim AS runtime
COPY script/packages.runtime /usr/share/videoflix-packages.runtime
RUN apt-get update \
    && grep -v '^#' /usr/share/videoflix-packages.runtime \
       | xargs apt-get install -y --no-install-recommends \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 videoflix \
    && useradd --system --uid 10001 --gid videoflix --home-dir /var/lib/videoflix \
       --shell /usr/sbin/nologin videoflix \
    && install -d -o videoflix -g videoflix -m 0750 /var/lib/videoflix \
    && install -d -o videoflix -g www-data -m 2750 /var/lib/videoflix/media \
       /var/lib/videoflix/media/hls /var/lib/videoflix/media/thumbnails \
    && install -d -o videoflix -g www-data -m 2700 /var/lib/videoflix/media/uploads \
       /var/lib/videoflix/media/staging
COPY --from=build /out/ /
COPY etc/docker/fcgi-health /usr/local/bin/videoflix-fcgi-health
# MEDIA_ROOT follows the permission model of lib/domain/media.h: group www-data (gid 33 in
# every Debian image, so the web container's nginx workers) with the setgid bit, which
# everything the app creates below inherits; published renditions and thumbnails are
# group-readable, uploads/ and staging/ are not.  The app user needs no membership in the
# group.  A new named volume copies this directory, owner and mode included.
# Configuration comes from the environment (docker compose: env_file .env); nothing is read
# from a file inside the image.  Run as the unprivileged user; media is a shared volume.
ENV MEDIA_ROOT=/var/lib/videoflix/media \
    VIDEOFLIX_DATA_DIR=/usr/share/videoflix \
    VIDEOFLIX_ENV=/dev/null
USER videoflix
WORKDIR /var/lib/videoflix
VOLUME ["/var/lib/videoflix/media"]
EXPOSE 9000
# FastCGI over TCP on port 9000, one listener per container: nginx balances over the
# replicas.  The health check is a real FastCGI request (cgi-fcgi from libfcgi-bin).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["videoflix-fcgi-health", "127.0.0.1:9000"]
CMD ["videoflix-fcgi", "--socket", "0.0.0.0:9000"]
