"""MkDocs hook: links from the documentation to files of the repository outside ``docs/``.

A page links to a repository file with the relative path that works when the Markdown is read in the
repository, e.g. ``[examples/jupyter_server_config.py](../examples/jupyter_server_config.py)`` from
``docs/jupyter.md``. MkDocs only knows the files under ``docs/``, so for the site this hook copies each linked
file into the site at its repository path and points the link there. A linked file that does not exist in the
checkout is shown as its link text, without a link, and the build says so at INFO level (the documentation may
describe a file that lands with another change).
"""

from __future__ import annotations

import os
import posixpath
import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

log = get_plugin_logger(__name__)

LINK = re.compile(r"\[(?P<text>[^\]\n]*)\]\((?P<target>[^)\s#]+)(?P<anchor>#[^)\s]*)?\)")


def _repository_path(config: MkDocsConfig, page_src_uri: str, target: str) -> str | None:
    """The repository-relative path a link from ``page_src_uri`` points at, if it leaves ``docs/``."""
    if "://" in target or target.startswith(("/", "mailto:")):
        return None
    docs = os.path.abspath(config.docs_dir)
    root = os.path.dirname(os.path.abspath(config.config_file_path))
    path = os.path.normpath(os.path.join(docs, os.path.dirname(page_src_uri), target))
    if os.path.commonpath([path, docs]) == docs or os.path.commonpath([path, root]) != root:
        return None
    return os.path.relpath(path, root).replace(os.sep, "/")


def on_files(files: Files, *, config: MkDocsConfig) -> Files:
    """Add every existing repository file that a page links to."""
    root = os.path.dirname(os.path.abspath(config.config_file_path))
    for page in list(files.documentation_pages()):
        for match in LINK.finditer(page.content_string):
            path = _repository_path(config, page.src_uri, match["target"])
            if path is None or not os.path.isfile(os.path.join(root, path)):
                continue
            existing = files.get_file_from_path(path)
            if existing is None:
                files.append(File.generated(config, path, abs_src_path=os.path.join(root, path)))
            elif existing.generated_by is None:
                raise PluginError(f"{path} exists both in docs/ and in the repository; link to one of them")
    return files


def on_page_markdown(markdown: str, *, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Point links to repository files at their copies in the site."""

    def rewrite(match: re.Match[str]) -> str:
        path = _repository_path(config, page.file.src_uri, match["target"])
        if path is None:
            return match[0]
        if files.get_file_from_path(path) is None:
            log.info("%s: %s is not in this checkout; shown without a link", page.file.src_uri, path)
            return match["text"]
        here = posixpath.dirname(page.file.src_uri) or "."
        return f"[{match['text']}]({posixpath.relpath(path, here)}{match['anchor'] or ''})"

    return LINK.sub(rewrite, markdown)
