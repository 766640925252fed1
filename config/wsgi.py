import os

from django.core.wsgi import get_wsgi_application

from config.runtime import settle_memory

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")

application = get_wsgi_application()
settle_memory()
