"""The Settings page (/settings): break timings, quiet hours, buzzer, thresholds.

Saved with `store.set_settings`; the daemon polls settings_version and applies
them without a restart. Only differences from the config file (or the
defaults) are stored, so a later change to the file still takes effect.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from dashboard import settings_form
from dashboard.db import get_store

bp = Blueprint("settings", __name__)


def _page(values: dict[str, str], errors: dict[str, str], status: int = 200):
    store = get_store()
    base = current_app.config["BASE_CONFIG"]
    fields = settings_form.fields(base)
    stored = store.settings()
    groups: list[dict[str, Any]] = []
    for section, (title, folded) in settings_form.GROUPS.items():
        members = [f for f in fields if f.section == section]
        has_error = any(f.name in errors for f in members)
        changed = any(f.name in stored for f in members)
        groups.append(
            {"section": section, "title": title, "folded": folded and not has_error and not changed, "fields": members}
        )
    defaults = {f.name: settings_form.as_text(settings_form.config_value(base, f)) for f in fields}
    version = store.settings_version()
    # What the daemon could not apply of these settings (a pin in use), if it said so.
    info = store.device_info()
    problem = info.get("settings_problem")
    not_applied = problem["problem"] if isinstance(problem, dict) and problem.get("version") == version else None
    return render_template(
        "settings.html",
        groups=groups,
        values=values,
        errors=errors,
        defaults=defaults,
        stored=stored,
        version=version,
        changes=_stored_changes(),
        not_applied=not_applied,
        error_list=[(f, errors[f.name]) for g in groups for f in g["fields"] if f.name in errors],
        config_file=current_app.config["CUSHION_CONFIG"],
        sharing=_sharing(base, info),
    ), status


def _sharing(base, info: dict[str, Any]) -> dict[str, Any] | None:
    """What goes to an MQTT broker, and to which (None: MQTT is off, nothing leaves the cushion).

    The broker's keys are in the config file only (not settings): who the data
    goes to is not a choice to make from a browser. The publisher leaves its
    last connection state in device_info "mqtt_status"."""
    mqtt = base.mqtt
    if not mqtt.enabled:
        return None
    said = info.get("mqtt_status")
    status: dict[str, Any] = said if isinstance(said, dict) else {}
    return {
        "broker": f"{mqtt.host}:{mqtt.port}",
        "tls": mqtt.tls,
        "username": mqtt.username,
        "cushion_id": mqtt.cushion_id or status.get("cushion_id") or info.get("mqtt_cushion_id") or "(not known yet)",
        "topics": f"{mqtt.topic_prefix}/{mqtt.cushion_id or status.get('cushion_id') or '<id>'}/",
        "load": mqtt.publish_load,
        "connected": status.get("connected"),
        "since": status.get("since"),
    }


def _stored_changes() -> list[dict]:
    """The settings stored over the config file, each with its label and both values, for the reset step."""
    base = current_app.config["BASE_CONFIG"]
    stored = get_store().settings()
    out = []
    for field in settings_form.fields(base):
        if field.name in stored:
            out.append(
                {
                    "label": field.label,
                    "unit": field.unit if "GPIO" not in field.unit else "",
                    "now": settings_form.as_text(stored[field.name]) or "none",
                    "file": settings_form.as_text(settings_form.config_value(base, field)) or "none",
                }
            )
    return out


def _current_values() -> dict[str, str]:
    """Each field as the daemon sees it: the stored setting, else the file's value."""
    base = current_app.config["BASE_CONFIG"]
    stored = get_store().settings()
    values = {}
    for field in settings_form.fields(base):
        value = stored.get(field.name, settings_form.config_value(base, field))
        values[field.name] = settings_form.as_text(value)
    return values


@bp.route("/settings")
def show():
    return _page(_current_values(), {})


@bp.route("/settings", methods=("POST",))
def save():
    base = current_app.config["BASE_CONFIG"]
    fields = settings_form.fields(base)
    wanted, errors = settings_form.validate(base, request.form, fields)
    if errors:
        values = {
            f.name: (("on" if request.form.get(f.name) else "") if f.kind == "bool" else request.form.get(f.name, ""))
            for f in fields
        }
        return _page(values, errors, 400)
    store = get_store()
    stored = store.settings()
    names = {f.name for f in fields}
    changes = {name: value for name, value in wanted.items() if stored.get(name) != value}
    changes.update({name: None for name in stored if name in names and name not in wanted})
    if not changes:
        flash("Nothing changed.", "ok")
    else:
        store.set_settings(changes)
        flash(
            f"Saved {len(changes)} change{'s' if len(changes) != 1 else ''}. The cushion applies "
            "them within a few seconds.",
            "ok",
        )
    return redirect(url_for("settings.show"))


@bp.route("/settings/reset", methods=("POST",))
def reset():
    """Reset only with the confirmation's confirm=yes; without it (an old form, a stray POST) ask first."""
    if request.form.get("confirm") != "yes":
        changes = _stored_changes()
        return render_template(
            "confirm.html",
            title="Reset the settings?",
            question=(
                "Put every setting back to the config file's value (or the default)? "
                "These changes made here will be lost:"
            )
            if changes
            else "There are no changes to reset.",
            items=[f"{c['label']}: {c['now']} → {c['file']}" + (f" {c['unit']}" if c["unit"] else "") for c in changes],
            action=url_for("settings.reset"),
            button="Yes, reset everything" if changes else None,
            back=url_for("settings.show"),
            back_text="No, keep my settings",
        )
    store = get_store()
    names = {f.name for f in settings_form.fields(current_app.config["BASE_CONFIG"])}
    removed: dict[str, None] = {name: None for name in store.settings() if name in names}
    if removed:
        store.set_settings(removed)
        flash("Back to the config file's values (or the defaults).", "ok")
    else:
        flash("Nothing to reset.", "ok")
    return redirect(url_for("settings.show"))
