"""Widget states a client sent that its widgets cannot hold are ignored, so each such widget shows
its default instead of the page showing an exception.

A rerun message carries one value per widget id, of any type the protocol allows. The page's own
frontend always sends each widget's type, but another client, or a tab open across a deploy, may
send an int array for a number box, an index past a select box's options, or JSON that does not
parse. Streamlit reads these values with the widget's deserializer while it compares states for
callbacks, before the script runs, and a deserializer's error would end the run. `guard` makes
Streamlit (a) drop, as the message arrives, a value whose type is not the one its widget sends (a number
box's int or double alike),
(b) treat a value its deserializer refuses as absent, as it already treats a value it cannot
read from a reconnecting browser, and (c) mend the session before the widgets' callbacks run
(they run before the page's script, so before the page's own check of the session).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from streamlit.proto.WidgetStates_pb2 import WidgetStates
from streamlit.runtime.state.session_state import SessionState, WStates, get_max_widget_state_size_bytes

NUMBERS = ("int_value", "double_value")  # a number box may send either (Streamlit adopts what it is sent)


def family(value_type: str | None) -> str | None:
    """The kind of value a widget state holds: a number, or its own field's type."""
    return "number" if value_type in NUMBERS else value_type


def guard(mend: Callable[[], None]) -> None:
    """Install the three checks into Streamlit's session state (once per process); `mend()` puts
    the running session's missing or invalid values back to their defaults."""
    if getattr(WStates.__getitem__, "guarded", False):
        return
    read, receive, call = WStates.__getitem__, SessionState.set_widgets_from_proto, SessionState._call_callbacks

    @wraps(read)
    def read_or_absent(self, key: str):
        try:
            return read(self, key)
        except KeyError:
            raise
        except Exception:  # the value is of the widget's type but not one it can hold
            raise KeyError(key) from None

    @wraps(receive)
    def receive_typed(self, widget_states: WidgetStates) -> None:
        known = self._new_widget_state.widget_metadata
        if widget_states.ByteSize() > get_max_widget_state_size_bytes():
            return receive(self, widget_states)  # refused whole, as Streamlit does
        kept = WidgetStates()
        kept.widgets.extend(
            state
            for state in widget_states.widgets
            if state.id not in known or family(state.WhichOneof("value")) == family(known[state.id].value_type)
        )
        receive(self, kept)

    @wraps(call)
    def mend_then_call(self, *args, **kwargs):
        mend()
        return call(self, *args, **kwargs)

    read_or_absent.guarded = True
    WStates.__getitem__ = read_or_absent
    SessionState.set_widgets_from_proto = receive_typed
    SessionState._call_callbacks = mend_then_call
