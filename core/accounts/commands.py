"""/link, /export and /deleteme."""

from __future__ import annotations

import json

from core.accounts import service, userdata
from core.accounts.ratelimit import LINK_ATTEMPTS_PER_MINUTE, link_attempt_allowed
from core.chat import Ctx, Reply, Router
from core.chat.markup import escape
from core.chat.messages import Button, FilePart
from core.chat.router import Param, action_id

router = Router()


@router.command(
    "link",
    usage="/link [code]",
    summary="a one-time code to join this account with the web or another platform",
    area="everyone",
    params=(Param("code", "a code from /link on your other account (none: get a code)"),),
)
async def link(ctx: Ctx, args: str) -> Reply:
    now = ctx.clock.now()
    if args.strip():
        if not await link_attempt_allowed(ctx.services.redis, ctx.user.id, now):
            return Reply.text(
                f"Too many link attempts: at most {LINK_ATTEMPTS_PER_MINUTE} a minute. "
                "Wait a minute, then send the code again.",
                private=True,
            )
        name = ctx.user.display_name
        await service.redeem_link_code(ctx.session, args.strip(), ctx.user.id, now)
        return Reply.text(
            "Linked! This chat account and your other account are now one: "
            f"tasks, cards, documents and stats are shared. Welcome back, {escape(name)}.",
            private=True,
        )
    code = await service.create_link_code(ctx.session, ctx.user.id, now)
    base = ctx.services.settings.public_base_url.rstrip("/")
    return Reply.text(
        f"Your link code: `{code}` (works once, for 10 minutes).\n\n"
        f"- on the web: sign in at {base}/link and enter it\n"
        f"- on another platform: send `/link {code}` to me there",
        private=True,
    )


@router.command(
    "export", usage="/export", summary="a file with all of your data (JSON)", area="everyone"
)
async def export(ctx: Ctx, args: str) -> Reply:
    data = await userdata.export_user(ctx.session, ctx.user.id)
    payload = json.dumps(data, ensure_ascii=False, indent=2).encode()
    rows = sum(len(v) for v in data.get("tables", {}).values())
    return Reply.text(
        f"Here is everything I keep about you: {rows} records in "
        f"{len(data.get('tables', {}))} tables, as JSON.",
        private=True,
    ).with_parts(FilePart("study-teddy-export.json", payload, "application/json"))


@router.command(
    "deleteme",
    usage="/deleteme",
    summary="delete all of your data, after a confirmation",
    area="everyone",
)
async def deleteme(ctx: Ctx, args: str) -> Reply:
    return Reply.text(
        "This deletes **everything** I keep about you on every linked platform: tasks, "
        "cards, documents, study history, linked accounts. It cannot be undone. "
        "Send /export first if you want a copy.",
        [
            Button("Delete everything", action_id("accounts.delete", ctx.user.id)),
            Button("Keep my data", action_id("accounts.keep")),
        ],
        private=True,
    )


@router.action("accounts.delete")
async def confirm_delete(ctx: Ctx, payload: str) -> Reply:
    # The button carries the user id it was shown to: a button forwarded to someone else,
    # or pressed after linking changed the id, must not delete anyone.
    if payload != str(ctx.user.id):
        return Reply.text("That button was not for you. Send /deleteme to start again.")
    await userdata.delete_user(ctx.session, ctx.user.id)
    return Reply.text("Done: all of your data is deleted. If you write again, I start fresh.")


@router.action("accounts.keep")
async def keep(ctx: Ctx, payload: str) -> Reply:
    return Reply.text("Nothing was deleted.")
