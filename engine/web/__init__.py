"""The web service (``huiqi serve``, extra ``huiqi[web]``): JSON API under /v1, the self-check page, bureau uploads.

The core engine never imports this package; ``engine.cli`` finds ``serve`` through its EXTENSIONS list.

    from engine.web.app import create_app
    app = create_app(Settings(rules=load_rules()))   # an ASGI app; uvicorn serves it
"""
