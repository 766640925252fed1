"""``manage.py import_articles PATH... --json``: analyse article files, print one JSON object per
article (and one error object per file that cannot be read). Writes nothing to the database."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from events.articles.analyze import analyze
from events.articles.extract import ArticleError, read_article


class Command(BaseCommand):
    help = (
        "Analyse article files (HTML or text): the known persons they mention and the events "
        "they state, as proposals. Prints JSON lines; writes nothing to the database."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("paths", nargs="+", metavar="PATH")
        parser.add_argument(
            "--json", action="store_true", help="One JSON object per line (the default output)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        failed = 0
        for path in options["paths"]:
            try:
                result = analyze(read_article(path))
            except ArticleError as exc:
                failed += 1
                self.stdout.write(json.dumps({"file": path, "error": str(exc)}, ensure_ascii=False))
                self.stderr.write(f"{path}: {exc}")
                continue
            self.stdout.write(json.dumps(result, ensure_ascii=False))
        if failed == len(options["paths"]):
            raise CommandError("no file could be read as an article")
