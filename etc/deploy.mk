## etc/deploy.mk -- installed data, sample configs, man pages, systemd units.
