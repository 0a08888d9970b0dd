"""Telling a person that something new broke or drifted: a webhook (POST JSON) or an e-mail.

Only news is sent: a link that was already broken at the last check, or a copy whose drift
verdict has not changed, is in the report but not in a notification, so a daily cron job does
not cry the same wolf every day. A notification that cannot be sent is logged and counted in
the run's errors; it never loses the run's results, which are already in the archive.
"""

from __future__ import annotations

import json
import logging
import smtplib
import socket
from collections.abc import Mapping
from dataclasses import replace
from email.message import EmailMessage
from typing import Any

from archiver.fetch.fetcher import Fetcher
from archiver.fetch.policy import FetchPolicy
from archiver.runs.config import Notify

log = logging.getLogger(__name__)


def should_notify(notify: Notify, summary: dict[str, Any]) -> bool:
    """Whether this run's news matches what the config asked to hear about."""
    if not notify.webhook and not notify.email_to:
        return False
    wanted = {
        "broken": bool(summary.get("new_broken")),
        "drift": bool(summary.get("new_drift")),
        "error": bool(summary.get("errors")),
    }
    return any(wanted[event] for event in notify.on)


def message_text(summary: dict[str, Any]) -> str:
    """The plain-text body of an e-mail: what is new, then the counts."""
    lines = [f"archiver run {summary.get('run_id')} finished: {summary.get('status')}", ""]
    for entry in summary.get("new_drift", []):
        lines.append(f"drift: {entry['status']}: {entry['url']} ({entry['canonical']})")
    for entry in summary.get("new_broken", []):
        lines.append(f"broken link: {entry['status']}: {entry['url']} (in {entry['source']})")
    for entry in summary.get("error_details", []):
        lines.append(f"error: {entry['item']}: {entry['detail']}")
    lines += [
        "",
        f"captures: {summary.get('captures')}, drift: {summary.get('drift')}, "
        f"new broken links: {summary.get('new_broken_links')}, errors: {summary.get('errors')}",
    ]
    return "\n".join(lines) + "\n"


def post_webhook(
    url: str,
    summary: dict[str, Any],
    *,
    timeout: float,
    policy: FetchPolicy | None = None,
    routes: Mapping[str, str] | None = None,
) -> None:
    """POST the summary as JSON through the fetcher (its User-Agent, limits and routes, with
    ``timeout`` as the deadline); raises OSError naming the failure in words."""
    body = json.dumps({"event": "archiver.run", **summary}, ensure_ascii=False).encode("utf-8")
    base = policy or FetchPolicy()
    policy = replace(
        base,
        timeout=timeout,
        connect_timeout=min(base.connect_timeout, timeout),
        read_timeout=min(base.read_timeout, timeout),
    )
    with Fetcher(policy, routes=routes) as fetcher:
        answer = fetcher.post(url, body, {"Content-Type": "application/json; charset=utf-8"})
    if answer.error is not None:
        raise OSError(f"webhook {url}: {answer.error}: {answer.detail}")
    if not 200 <= (answer.status or 0) < 300:
        raise OSError(f"webhook {url}: answered HTTP {answer.status}")


def send_email(notify: Notify, summary: dict[str, Any]) -> None:
    """Send the news by SMTP (no auth, as a local MTA expects); raises OSError on failure."""
    message = EmailMessage()
    message["Subject"] = (
        f"archiver: {len(summary.get('new_broken', []))} new broken link(s), "
        f"{len(summary.get('new_drift', []))} new drift"
    )
    message["From"] = notify.email_from
    message["To"] = ", ".join(notify.email_to)
    message.set_content(message_text(summary))
    try:
        # The host name, not socket.getfqdn(): that asks DNS, which can hang a cron job.
        with smtplib.SMTP(
            notify.smtp_host,
            notify.smtp_port,
            local_hostname=socket.gethostname(),
            timeout=notify.timeout,
        ) as smtp:
            smtp.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        raise OSError(f"e-mail via {notify.smtp_host}:{notify.smtp_port}: {exc}") from exc


def send(
    notify: Notify,
    summary: dict[str, Any],
    *,
    policy: FetchPolicy | None = None,
    routes: Mapping[str, str] | None = None,
) -> list[str]:
    """Send every configured notification; return the problems (empty when all went out).

    The webhook goes through the fetch stage with the run's ``policy`` and ``routes`` (the
    config's ``[fetch]`` and ``--connect-to``); the e-mail through the local MTA.
    """
    problems: list[str] = []
    if notify.webhook:
        try:
            post_webhook(
                notify.webhook, summary, timeout=notify.timeout, policy=policy, routes=routes
            )
        except OSError as exc:
            log.warning("%s", exc)
            problems.append(str(exc))
    if notify.email_to:
        try:
            send_email(notify, summary)
        except OSError as exc:
            log.warning("%s", exc)
            problems.append(str(exc))
    return problems
