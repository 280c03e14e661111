"""Example texts a visitor can pick instead of typing: each shows off a kind of cell."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Example:
    label: str
    text: str
    hypothesis: str  # the lstm_viz.core.features hypothesis it shows off; its best cell is suggested


DIALOGUE = """\
"Well, Prince, so the army is to march after all," said Anna Pavlovna, rising to
meet him. "I warn you, if you tell me that this means war, I shall never speak to
you again."

The prince smiled. "And what would you have me say, my dear? That the Emperor
has changed his mind? He has not. 'We shall see,' he told me, 'what the autumn
brings.'"

"Then you have heard nothing new?"

"Nothing, except that Kutuzov is ill, and that Bolkonski wants to go with him."

She looked at him for a long while, and then said quietly: "Poor Lise. She does
not know yet."
"""

C_FUNCTION = """\
static int queue_drain(struct rq_queue *q, unsigned long flags)
{
	struct request *req, *next;
	int done = 0;

	spin_lock_irqsave(&q->lock, flags);
	list_for_each_entry_safe(req, next, &q->pending, list) {
		if (req->state == REQ_DONE) {
			if (req->end_io && !(req->flags & REQ_QUIET)) {
				req->end_io(req, (req->error < 0) ? req->error : 0);
			} else {
				list_del_init(&req->list);
			}
			done++;
		} else if (req->retries > MAX_RETRIES) {
			pr_warn("rq: giving up on %p after %d tries\\n", req, req->retries);
			req->error = -EIO;
		}
	}
	spin_unlock_irqrestore(&q->lock, flags);
	return done;
}
"""

IF_CONDITIONS = """\
static int check_request(struct device *dev, struct request *req, int flags)
{
	int err = 0;

	if (!dev || !req)
		return -EINVAL;
	if (req->len > dev->max_len && !(flags & REQ_SPLIT))
		return -E2BIG;
	err = prepare_buffer(dev, req->buf, req->len);
	if (err < 0) {
		pr_err("prepare_buffer failed: %d\\n", err);
		return err;
	}
	if (dev->state == DEV_SUSPENDED || atomic_read(&dev->pending) >= MAX_PENDING) {
		queue_request(dev, req);
		return 0;
	}
	spin_lock(&dev->lock);
	if (list_empty(&dev->queue) && (req->flags & REQ_URGENT))
		dev->urgent = req;
	list_add_tail(&req->list, &dev->queue);
	spin_unlock(&dev->lock);
	if (unlikely(flags & REQ_SYNC))
		err = wait_for_completion_timeout(&req->done, HZ);
	return err;
}
"""

LONG_LINES = """\
Short line.
A line of middling length, about halfway across the page.
This line runs on well past the width at which the novel wraps its prose, so that any cell which counts the characters since the last newline has to keep counting for much longer than it ever did in training, and we can watch whether it saturates, resets, or wanders off.
Then a short one again.
And finally one more very long line, written without a single break, in which the narrator describes the road from Moscow to Smolensk, the carts and the dust and the soldiers walking beside them, the villages half emptied and the fields left unreaped, until the evening comes and the column stops at last.
"""

EXAMPLES = {
    "dialogue": Example("Dialogue with quotes (prose)", DIALOGUE, "quotes"),
    "c": Example("C function with nested ifs and brackets", C_FUNCTION, "bracket_depth"),
    "ifs": Example("C function with many if conditions", IF_CONDITIONS, "if_condition"),
    "long": Example("Lines of very different lengths", LONG_LINES, "line_position"),
}
CUSTOM = "custom"  # the example key once the visitor has edited the text


def default_example(model_name: str) -> str:
    """The example that suits a model: code for a model trained on C, dialogue otherwise."""
    return "c" if "linux" in model_name.lower() or "kernel" in model_name.lower() else "dialogue"
