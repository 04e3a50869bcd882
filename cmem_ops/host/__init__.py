"""What machine we are on: OS, architecture, distro and family, Docker, root/sudo, TTY.

    detect.py   the frozen Host and detect_host(root=..., which=..., ...), read from an injectable root
"""
