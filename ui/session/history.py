"""The browser's Back and Forward: whether this run was started by one.

Streamlit reruns the page with the link the browser went to and marks the run as a history
navigation in its script run context; `state.start` then shows what that link names."""

from __future__ import annotations

from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx


def navigated() -> bool:
    """Whether the browser's Back or Forward started this run."""
    ctx = get_script_run_ctx()
    return bool(getattr(ctx, "is_history_navigation", False))
