"""Fill deploy/nginx.conf's placeholders and print (or write) a complete nginx.conf.

Production (TLS):
    python deploy/render_nginx.py --server-name www.example.cn \
        --cert /etc/letsencrypt/live/www.example.cn/fullchain.pem \
        --key /etc/letsencrypt/live/www.example.cn/privkey.pem \
        --upstream 127.0.0.1:8000 --static-root /srv/fanwen/var/static \
        --run-dir /run --log-dir /var/log/nginx --cache-dir /var/cache/nginx/fanwen \
        --user www-data --conf-dir /etc/nginx --out /etc/nginx/nginx.conf
Loopback without TLS: --no-tls --listen 127.0.0.1:80 (`make stack` uses 127.0.0.1:8080).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
BROTLI_MODULES = [
    Path("/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so"),
    Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so"),
]


def brotli_available() -> bool:
    return BROTLI_MODULES[0].exists()


def render(
    *,
    listen: str,
    server_name: str,
    upstreams: list[str],
    static_root: str,
    run_dir: str,
    log_dir: str,
    cache_dir: str,
    conf_dir: str,
    tls: bool,
    user: str = "",
    cert: str = "",
    key: str = "",
    visitor_cookie: str = "fw_visitor",
    session_cookie: str = "sessionid",
) -> str:
    template = (HERE / "nginx.conf").read_text(encoding="utf-8")
    brotli = brotli_available()
    modules = "\n".join(f"load_module {m};" for m in BROTLI_MODULES if m.exists()) if brotli else ""
    values = {
        "__LOAD_MODULES__": modules,
        "__USER__": user,
        "__LISTEN__": listen,
        "__SERVER_NAME__": server_name,
        "__UPSTREAMS__": "\n        ".join(
            f"server {u} max_fails=3 fail_timeout=10s;" for u in upstreams
        ),
        "__STATIC_ROOT__": static_root.rstrip("/"),
        "__RUN_DIR__": run_dir,
        "__LOG_DIR__": log_dir,
        "__CACHE_DIR__": cache_dir,
        "__CONF_DIR__": conf_dir,
        "__TLS_CERT__": cert,
        "__TLS_KEY__": key,
        "__VISITOR_COOKIE__": visitor_cookie,
        "__SESSION_COOKIE__": session_cookie,
    }
    lines = []
    for line in template.splitlines():
        if line.rstrip().endswith("# tls") and not tls:
            continue
        if line.rstrip().endswith("# brotli") and not brotli:
            continue
        if line.rstrip().endswith("# user") and not user:
            continue
        for name, value in values.items():
            line = line.replace(name, value)
        lines.append(line)
    text = "\n".join(lines) + "\n"
    if "__" in text.replace("__init__", ""):
        leftover = [w for w in text.split() if w.startswith("__") and w.endswith("__")]
        if leftover:
            raise SystemExit(f"unfilled placeholders: {leftover}")
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", default="443 ssl http2")
    parser.add_argument("--server-name", default="_")
    parser.add_argument("--upstream", action="append", default=[], help="host:port, repeatable")
    parser.add_argument("--static-root", required=True)
    parser.add_argument("--run-dir", default="/run/nginx")
    parser.add_argument("--log-dir", default="/var/log/nginx")
    parser.add_argument("--cache-dir", default="/var/cache/nginx/fanwen")
    parser.add_argument("--conf-dir", default="/etc/nginx", help="where fanwen-proxy.conf goes")
    parser.add_argument(
        "--user", default="", help="the workers' account (www-data on Debian); owns --cache-dir"
    )
    parser.add_argument("--no-tls", action="store_true")
    parser.add_argument("--cert", default="")
    parser.add_argument("--key", default="")
    parser.add_argument("--visitor-cookie", default="fw_visitor")
    parser.add_argument("--session-cookie", default="sessionid")
    parser.add_argument("--out", help="write here (and fanwen-proxy.conf into --conf-dir)")
    args = parser.parse_args()
    if not args.no_tls and not (args.cert and args.key):
        parser.error("--cert and --key are needed unless --no-tls")
    text = render(
        listen=args.listen if not args.no_tls or args.listen != "443 ssl http2" else "80",
        server_name=args.server_name,
        upstreams=args.upstream or ["127.0.0.1:8000"],
        static_root=args.static_root,
        run_dir=args.run_dir,
        log_dir=args.log_dir,
        cache_dir=args.cache_dir,
        conf_dir=args.conf_dir,
        tls=not args.no_tls,
        user=args.user,
        cert=args.cert,
        key=args.key,
        visitor_cookie=args.visitor_cookie,
        session_cookie=args.session_cookie,
    )
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        Path(args.conf_dir).mkdir(parents=True, exist_ok=True)
        shutil.copy(HERE / "fanwen-proxy.conf", Path(args.conf_dir) / "fanwen-proxy.conf")
    else:
        print(text, end="")


if __name__ == "__main__":
    main()
