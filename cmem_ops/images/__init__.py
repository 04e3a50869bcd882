"""The docker stack's images, built with no registry (`cmem-ops images build`).

    rootfs.py    a root filesystem staged in a directory: binaries + their ldd libraries, busybox, tar
    recipes.py   valkey, postgres and claude-mem: what each holds, its inputs digest, its CMD/ENV
    build.py     build_images: skip a tag whose inputs label matches, else stage, pack, docker import
    *-entrypoint.sh  the entrypoints baked into the postgres and claude-mem images
"""
