"""Reference renderer for the chat-template conformance test: Python Jinja2 configured exactly as
transformers' apply_chat_template configures it (transformers/utils/chat_template_utils.py:
_compile_jinja_template and render_jinja_template).

stdin: JSON {"templates": {name: source}, "cases": [{"template": name, "messages": [...],
"add_generation_prompt": bool, "bos_token": str, "eos_token": str, "tools": ..., "extra": {...}}]}
stdout: JSON list, one {"ok": rendered} or {"error": message} per case, in order.
All cases run in this one process (the test batches them to keep Python start-up out of the loop).
"""
import json
import sys
from datetime import datetime

import jinja2
from jinja2 import nodes
from jinja2.exceptions import TemplateError
from jinja2.ext import Extension
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # transformers overrides Jinja's tojson, which HTML-escapes; it exposes json.dumps' options.
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(format):
    return datetime.now().strftime(format)


class AssistantTracker(Extension):
    """transformers' {% generation %} tag; outside return_assistant_tokens_mask it renders its body."""

    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_generation_support"), [], [], body).set_lineno(lineno)

    @jinja2.pass_eval_context
    def _generation_support(self, context, caller):
        return caller()


def compile_template(source):
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env.from_string(source)


def main():
    req = json.load(sys.stdin)
    compiled = {}
    out = []
    for case in req["cases"]:
        name = case["template"]
        try:
            if name not in compiled:
                compiled[name] = compile_template(req["templates"][name])
            kwargs = dict(case.get("extra") or {})
            kwargs["bos_token"] = case.get("bos_token", "")
            kwargs["eos_token"] = case.get("eos_token", "")
            text = compiled[name].render(
                messages=case["messages"],
                tools=case.get("tools"),
                documents=None,
                add_generation_prompt=case.get("add_generation_prompt", False),
                **kwargs,
            )
            out.append({"ok": text})
        except Exception as e:  # noqa: BLE001 -- the test compares failures too
            out.append({"error": f"{type(e).__name__}: {e}"})
    json.dump(out, sys.stdout, ensure_ascii=False)


main()
