#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Builds the tiny initramfs that boots Debian's kernel with the host's / as
# a read-only 9p root: busybox-static plus the virtio and 9p modules of
# kernel KVER. Its /init mounts the root and switch_roots into $BFT_INIT
# (a kernel command line variable).
#
#   mkinitramfs.sh KVER OUT.cpio.gz
set -eu

KVER=$1
OUT=$2
MODS="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci netfs fscache 9pnet 9pnet_virtio 9p"
BUSYBOX=$(command -v busybox || true)

if [ -z "$BUSYBOX" ] || readelf -l "$BUSYBOX" | grep -q INTERP; then
	echo "mkinitramfs: a static busybox is needed (apt-get install busybox-static)" >&2
	exit 1
fi

D=$(mktemp -d)
trap 'rm -rf "$D"' EXIT
mkdir -p "$D/bin" "$D/lib/modules" "$D/proc" "$D/sys" "$D/dev" "$D/newroot"
cp "$BUSYBOX" "$D/bin/busybox"
for m in $MODS; do
	f=$(find "/lib/modules/$KVER/kernel" -name "$m.ko" -o -name "$m.ko.xz" | head -n 1)
	if [ -z "$f" ]; then
		# built in on some configs: fine
		continue
	fi
	case "$f" in
	*.xz) xz -dc "$f" > "$D/lib/modules/$m.ko" ;;
	*) cp "$f" "$D/lib/modules/$m.ko" ;;
	esac
done

cat > "$D/init" <<EOS
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t devtmpfs dev /dev
for m in $MODS; do
	[ -f /lib/modules/\$m.ko ] || continue
	insmod /lib/modules/\$m.ko || echo "initramfs: insmod \$m failed"
done
i=0
until mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144,cache=loose,ro root /newroot; do
	i=\$((i + 1))
	if [ \$i -ge 10 ]; then
		echo "initramfs: cannot mount the 9p root"
		poweroff -f
	fi
	sleep 1
done
umount /dev
umount /proc
exec switch_root /newroot "\${BFT_INIT:-/sbin/init}"
EOS
chmod 0755 "$D/init"
(cd "$D" && find . | cpio -o -H newc --quiet) | gzip -1 > "$OUT"
