## etc/deploy.mk -- installed data, sample configs, man pages, systemd units.
##
## Layout (`make install`):
##   $(sbindir)                          videoflix-fcgi, videoflix-worker, videoflixctl (areas' sbin_PROGRAMS)
##   $(pkgdatadir)/{schema,www,data/templates}/..., $(pkgdatadir)/data/common-passwords.txt
##                                       copied keeping the source layout (VIDEOFLIX_DATA_DIR default)
##   $(sysconfdir)/videoflix/            videoflix.env, nginx/*.conf, lighttpd/*.conf samples, rendered
##                                       for this prefix; never overwrites a file that exists
##   $(systemdsystemunitdir)             videoflix-fcgi.socket, videoflix-fcgi.service, videoflix-worker.service
##   $(sysusersdir)/videoflix.conf       the "videoflix" system user (systemd-sysusers)
##   $(mandir)/man5, man8                videoflix.env(5), videoflix-fcgi(8), videoflix-worker(8), videoflixctl(8)
## Nothing installed refers to the build or source tree.

vfconfdir = $(sysconfdir)/videoflix
# Override on the command line for a distribution layout, e.g.
#   make install systemdsystemunitdir=/lib/systemd/system sysusersdir=/usr/lib/sysusers.d
systemdsystemunitdir = $(prefix)/lib/systemd/system
sysusersdir = $(prefix)/lib/sysusers.d

dist_man_MANS = etc/man/videoflix.env.5 etc/man/videoflix-fcgi.8 etc/man/videoflix-worker.8 \
	etc/man/videoflixctl.8

# Files rendered from *.in with the configured directories.
vf_rendered = etc/systemd/videoflix-fcgi.socket etc/systemd/videoflix-fcgi.service \
	etc/systemd/videoflix-worker.service
systemdsystemunit_DATA = etc/systemd/videoflix-fcgi.socket etc/systemd/videoflix-fcgi.service \
	etc/systemd/videoflix-worker.service
dist_sysusers_DATA = etc/systemd/sysusers.d/videoflix.conf
CLEANFILES += $(vf_rendered) etc/videoflix.env

vf_edit = sed -e 's|@sbindir[@]|$(sbindir)|g' -e 's|@bindir[@]|$(bindir)|g' \
	-e 's|@sysconfdir[@]|$(sysconfdir)|g' -e 's|@localstatedir[@]|$(localstatedir)|g' \
	-e 's|@pkgdatadir[@]|$(pkgdatadir)|g' -e 's|@runstatedir[@]|$(runstatedir)|g' \
	-e 's|@PACKAGE_VERSION[@]|$(PACKAGE_VERSION)|g'

$(vf_rendered): Makefile $(vf_rendered:=.in)
	$(AM_V_GEN)$(MKDIR_P) $(@D) && $(vf_edit) $(srcdir)/$@.in >$@.tmp && mv $@.tmp $@

# The installed sample env file is .env.example (every setting, its default and meaning)
# with the data directory of this installation filled in.
etc/videoflix.env: Makefile $(srcdir)/.env.example
	$(AM_V_GEN)$(MKDIR_P) $(@D) && { \
	  echo "# videoflix.env -- installed by make install from .env.example; read by the systemd"; \
	  echo "# units (EnvironmentFile=) and by videoflixctl -e $(vfconfdir)/videoflix.env."; \
	  echo "# Set SECRET_KEY before the first start.  Reference: videoflix.env(5)."; echo; \
	  sed -e 's|^#VIDEOFLIX_DATA_DIR=.*|VIDEOFLIX_DATA_DIR=$(pkgdatadir)|' $(srcdir)/.env.example; \
	} >$@.tmp && mv $@.tmp $@

all-local: $(vf_rendered) etc/videoflix.env

# Data directories copied to $(pkgdatadir) keeping the source layout.  Each area adds its
# files under these directories; the whole directories are distributed (Makefile.am).
vf_data_dirs = schema www data/templates
vf_data_files = data/common-passwords.txt

# List the data files (relative to the source tree) on stdout.
vf_list_data = (cd $(srcdir) && for d in $(vf_data_dirs); do test -d "$$d" || continue; \
	find "$$d" -type f ! -name '.*' ! -name '*~' ! -name '*.orig' -print; done; \
	for f in $(vf_data_files); do test -f "$$f" && echo "$$f"; done; true) | LC_ALL=C sort

install-data-local:
	@$(vf_list_data) | while read -r f; do \
	  d=$$(dirname "$$f"); \
	  $(MKDIR_P) "$(DESTDIR)$(pkgdatadir)/$$d" || exit 1; \
	  $(INSTALL_DATA) "$(srcdir)/$$f" "$(DESTDIR)$(pkgdatadir)/$$f" || exit 1; \
	done

# Web server samples: the templates of etc/nginx and etc/lighttpd (with lighttpd's JSON
# error bodies) rendered for an installed system: socket-activated app on
# /run/videoflix/fcgi.sock, media under /var/lib/videoflix, data under $(pkgdatadir).
vf_sample_edit = sed -e 's|@FCGI_SOCKET[@]|/run/videoflix/fcgi.sock|g' \
	-e 's|@WWW_ROOT[@]|$(pkgdatadir)/www|g' -e 's|@ERRORS_DIR[@]|$(vfconfdir)/lighttpd/errors|g' \
	-e 's|@MEDIA_ROOT[@]|/var/lib/videoflix/media|g' \
	-e 's|@BIND_ADDRESS[@]|0.0.0.0|g' -e 's|@HTTP_PORT[@]|80|g' \
	-e 's|@UPLOAD_MAX_BYTES[@]|8589934592|g' -e 's|@UPLOAD_MAX_KBYTES[@]|8388608|g' \
	-e 's|@CORS_ALLOWED_ORIGINS[@]|http://127.0.0.1:5500,http://localhost:5500|g' \
	-e 's,@CORS_ORIGIN_REGEX[@],^(http://127\\.0\\.0\\.1:5500|http://localhost:5500)$$,g' \
	-e 's|@HLS_SIGN_LUA[@]|$(vfconfdir)/lighttpd/videoflix-hls.lua|g' \
	-e 's|"@MEDIA_SIGNING_KEY[@]"|""|g' -e 's|@MEDIA_SIGNING_KEY[@]|$$request_id|g'

# The web server's segment-signing key is a secret, so make install writes none (a package
# built from it must be reproducible and ship no secret): the Lua script gets an empty key,
# with which it accepts no signature, and nginx verifies against $request_id, a fresh random
# value per request that no signature can match.  Signed URLs work once the sysadmin puts
# MEDIA_SIGNING_KEY into both samples and the env file (videoflix.env(5)).

# List "source destination-name" pairs of the samples installed under $(vfconfdir).
vf_list_samples = (echo "etc/videoflix.env videoflix.env"; cd $(srcdir) && \
	for d in etc/nginx etc/lighttpd; do test -d "$$d" || continue; \
	find "$$d" -type f ! -name '.*' ! -name '*~' -print; done | LC_ALL=C sort | \
	while read -r f; do echo "$$f $${f\#etc/}"; done)

# Render one sample ($$src) to $$tmp: the env file is already rendered in the build tree.
vf_render_sample = if test "$$src" = etc/videoflix.env; then cp etc/videoflix.env "$$tmp"; \
	else $(vf_sample_edit) "$(srcdir)/$$src" >"$$tmp"; fi

# Samples: installed once; an existing (possibly edited) file is kept.  The env file may
# hold secrets, hence mode 0640.
install-data-hook:
	@tmp=$$(mktemp) || exit 1; \
	$(vf_list_samples) | while read -r src dst; do \
	  $(vf_render_sample) || exit 1; \
	  target="$(DESTDIR)$(vfconfdir)/$$dst"; \
	  $(MKDIR_P) "$$(dirname "$$target")" || exit 1; \
	  if test -e "$$target"; then \
	    echo "  keeping existing $$target"; \
	  else \
	    mode=0644; test "$$dst" = videoflix.env && mode=0640; \
	    $(INSTALL) -m $$mode "$$tmp" "$$target" || exit 1; \
	  fi; \
	done; rm -f "$$tmp"

# Uninstall removes the data files and the samples that are unchanged since install;
# edited configuration stays.
uninstall-local:
	@$(vf_list_data) | while read -r f; do rm -f "$(DESTDIR)$(pkgdatadir)/$$f"; done
	@tmp=$$(mktemp) || exit 1; \
	$(vf_list_samples) | while read -r src dst; do \
	  $(vf_render_sample) || exit 1; \
	  target="$(DESTDIR)$(vfconfdir)/$$dst"; \
	  if test -f "$$target" && cmp -s "$$tmp" "$$target"; then rm -f "$$target"; \
	  elif test -e "$$target"; then echo "  keeping modified $$target"; fi; \
	done; rm -f "$$tmp"
	@for d in "$(DESTDIR)$(pkgdatadir)" "$(DESTDIR)$(vfconfdir)"; do \
	  test -d "$$d" && find "$$d" -depth -type d -empty -exec rmdir {} \; ; true; \
	done

# The installation directories, for tests (tests/integration/test_deploy.py).
print-dirs:
	@echo prefix=$(prefix); echo sbindir=$(sbindir); echo pkgdatadir=$(pkgdatadir); \
	echo vfconfdir=$(vfconfdir); echo mandir=$(mandir); \
	echo systemdsystemunitdir=$(systemdsystemunitdir); echo sysusersdir=$(sysusersdir)
.PHONY: print-dirs

EXTRA_DIST += $(vf_rendered:=.in) etc/nginx etc/lighttpd etc/docker Dockerfile .dockerignore \
	docker-compose.yml

# Whole directories in EXTRA_DIST (bench, schema, ...) are copied from the build tree as
# well as the source tree: drop build products (objects, dependency dirs, programs) so
# that the tarball holds sources only and builds cleanly.
dist-hook:
	@cd $(distdir) && find . \( -name '*.o' -o -name '*.a' -o -name '.dirstamp' \
	  -o -name '.deps' -o -name '*.log' -o -name '*.trs' \) -prune -exec rm -rf {} +
	@for p in $(sbin_PROGRAMS) $(bin_PROGRAMS) $(noinst_PROGRAMS) $(check_PROGRAMS); do \
	  rm -f "$(distdir)/$$p"; done

# make distcheck: build the optional PostgreSQL backend too; install the units and sysusers
# file inside the distcheck prefix.
AM_DISTCHECK_CONFIGURE_FLAGS = --with-postgresql
