"""What a user does in JupyterLab 4, as Playwright steps: the file browser, notebooks, menus and dialogs.

Every step waits for a condition on the page (an element, a text, a class), never for a fixed time.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from playwright.sync_api import Locator, Page, expect
from playwright.sync_api import TimeoutError as PlaywrightTimeout

T = TypeVar("T")

KERNEL_TIMEOUT = 90_000  # ms: a kernel's first start on a busy 2-core machine


def poll(what: str, check: Callable[[], T | None], timeout: float = 30) -> T:
    """Call ``check`` until it returns something other than None or False; fail saying ``what`` was awaited.

    An S3 error (the object is not there yet) counts as not yet.
    """
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
        except ClientError as e:  # e.g. the object is not there yet: keep polling, show it if time runs out
            last = e
        else:
            if last is not None and last is not False:
                return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}; last result: {last!r}")
        time.sleep(0.2)


def wait_for_lab(page: Page) -> None:
    """Until JupyterLab has restored its workspace (the splash screen is gone) and the file browser lists."""
    page.wait_for_function(
        "() => !document.getElementById('jupyterlab-splash')"
        " && document.querySelector('.jp-FileBrowser .jp-DirListing-item') !== null",
        timeout=60_000,
    )


# -- file browser ------------------------------------------------------------------------------------------------
def listing(page: Page) -> list[str]:
    """The names the file browser shows, in order."""
    return [t.strip() for t in page.locator(".jp-FileBrowser .jp-DirListing-itemText").all_inner_texts()]


def item(page: Page, name: str) -> Locator:
    """The file browser's row for ``name``."""
    exact = page.locator(".jp-DirListing-itemText", has_text=re.compile(rf"^\s*{re.escape(name)}\s*$"))
    return page.locator(".jp-FileBrowser .jp-DirListing-item").filter(has=exact)


def breadcrumbs(page: Page) -> Locator:
    return page.locator(".jp-FileBrowser .jp-BreadCrumbs")


def open_folder(page: Page, name: str) -> None:
    """Double-click the folder ``name`` in the file browser; return once the browser is in it."""
    item(page, name).dblclick()
    expect(breadcrumbs(page)).to_contain_text(f"{name}/")


def context_menu(page: Page, name: str, command: str) -> None:
    """Right-click ``name`` in the file browser and choose the menu entry of ``command``."""
    row = item(page, name)
    row.click(button="right")
    page.locator(f".lm-Menu .lm-Menu-item[data-command='{command}']").click()


def menu(page: Page, title: str, command: str) -> None:
    """Choose the entry of ``command`` in the menu bar's menu ``title`` (e.g. File)."""
    page.locator(".lm-MenuBar-item", has_text=re.compile(rf"^{re.escape(title)}$")).click()
    page.locator(f".lm-Menu .lm-Menu-item[data-command='{command}']").click()


# -- notebooks ---------------------------------------------------------------------------------------------------
def current_tab(page: Page) -> Locator:
    return page.locator("#jp-main-dock-panel .lm-TabBar-tab.jp-mod-current")


def notebook(page: Page) -> Locator:
    """The notebook in the current main-area tab."""
    return page.locator("#jp-main-dock-panel .jp-NotebookPanel:not(.lm-mod-hidden)")


def open_notebook(page: Page, name: str) -> Locator:
    """Double-click the notebook ``name`` in the file browser; return it once its cells and kernel are ready."""
    item(page, name).dblclick()
    return wait_notebook(page, name)


def wait_notebook(page: Page, name: str) -> Locator:
    expect(current_tab(page)).to_contain_text(name)
    panel = notebook(page)
    expect(panel.locator(".jp-Cell").first).to_be_visible()
    # The kernel named in the notebook starts; the status bar says "Python 3 (ipykernel) | Idle" once it runs.
    expect(page.locator(".jp-StatusBar-TextItem", has_text="| Idle")).to_be_visible(timeout=KERNEL_TIMEOUT)
    return panel


def cell_editor(panel: Locator, index: int) -> Locator:
    return panel.locator(".jp-Cell").nth(index).locator(".cm-content")


def set_cell(page: Page, panel: Locator, index: int, text: str) -> None:
    """Replace the source of cell ``index`` by typing ``text`` into it (the editor keeps the focus)."""
    editor = cell_editor(panel, index)
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.type(text)
    expect(editor).to_have_text(text)


def save_with_keyboard(page: Page, panel: Locator, index: int = 0) -> None:
    """Ctrl-S with the focus in the notebook (in the editor of cell ``index``)."""
    cell_editor(panel, index).click()
    page.keyboard.press("Control+s")


def run_cell(page: Page, panel: Locator, index: int) -> Locator:
    """Run cell ``index`` with Shift-Enter; its output area."""
    cell_editor(panel, index).click()
    page.keyboard.press("Shift+Enter")
    return panel.locator(".jp-Cell").nth(index).locator(".jp-OutputArea-output")


# -- dialogs -----------------------------------------------------------------------------------------------------
def dialog(page: Page) -> Locator:
    return page.locator(".jp-Dialog")


def wait_saved(page: Page, timeout: float = 30) -> None:
    """After a save: until the current tab has no unsaved changes; fail at once, with its text, if a dialog shows
    instead (an error, "File Changed")."""
    outcome = page.wait_for_function(
        """() => {
            if (document.querySelector('.jp-Dialog')) return 'dialog';
            const tab = document.querySelector('#jp-main-dock-panel .lm-TabBar-tab.jp-mod-current');
            return tab !== null && !tab.classList.contains('jp-mod-dirty') && 'saved';
        }""",
        timeout=timeout * 1000,
    ).json_value()
    if outcome == "dialog":
        raise AssertionError(f"the save showed a dialog: {dialog(page).first.inner_text()!r}")


def no_dialog_within(page: Page, seconds: float) -> None:
    """Fail if a dialog shows up within ``seconds`` (naming its text)."""
    try:
        dialog(page).first.wait_for(state="visible", timeout=seconds * 1000)
    except PlaywrightTimeout:
        return
    raise AssertionError(f"unexpected dialog: {dialog(page).first.inner_text()!r}")
