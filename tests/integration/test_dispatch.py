from core.chat import Ctx, Reply, Router
from core.chat.messages import Incoming
from core.errors import BadInput
from core.identity.models import Identity, Membership, Room, User
from teddy.runtime import Runtime
from tests.support.chat_driver import ChatDriver
from tests.support.rows import count


async def test_first_message_creates_the_user_and_later_ones_reuse_it(
    core: Runtime, chat: ChatDriver
) -> None:
    assert "Study Teddy" in await chat.say("/start")
    await chat.say("/settings")
    assert await count(core, User) == 1
    assert await count(core, Identity) == 1


async def test_a_redelivered_platform_event_is_handled_once(
    core: Runtime, chat: ChatDriver
) -> None:
    first = await chat.send("/settings tz Asia/Tokyo", event_id="upd-1")
    again = await chat.send("/settings tz Asia/Tokyo", event_id="upd-1")
    assert first and "Asia/Tokyo" in first[0].plain_text()
    assert again == []


async def test_settings_belong_to_the_speaker_only(make_chat) -> None:  # type: ignore[no-untyped-def]
    alice, bob = make_chat("alice"), make_chat("bob")
    await alice.say("/settings tz Asia/Tokyo")
    assert "Asia/Tokyo" in await alice.say("/settings")
    assert "time zone: UTC" in await bob.say("/settings")


async def test_bad_input_gets_a_clear_message_and_writes_nothing(
    core: Runtime, chat: ChatDriver
) -> None:
    await chat.say("/settings tz Europe/Paris")
    reply = await chat.say("/settings tz Atlantis/Deep")
    assert "Area/City" in reply
    assert "Europe/Paris" in await chat.say("/settings")


async def test_group_chat_becomes_a_room_with_its_speakers_as_members(
    core: Runtime, make_chat
) -> None:  # type: ignore[no-untyped-def]
    await make_chat("alice", room="bio").say("/help")
    await make_chat("bob", room="bio").say("/help")
    await make_chat("bob", room="chem").say("/help")
    assert await count(core, Room) == 2
    assert await count(core, Membership) == 3


async def test_unknown_command_in_a_group_without_mention_is_left_to_other_bots(
    core: Runtime, chat: ChatDriver
) -> None:
    room_chat = ChatDriver(core, "carol", room="g")
    incoming = Incoming(room_chat.sender, room_chat.chat, text="/otherbotcmd")
    assert await core.dispatcher.handle(incoming) == []
    assert "don't know /otherbotcmd" in await chat.say("/otherbotcmd")


async def test_handler_crash_rolls_back_and_the_next_message_works(
    core: Runtime, chat: ChatDriver
) -> None:
    router = core.dispatcher.router
    broken = Router()

    @broken.command("crash", usage="/crash", summary="fails", area="everyone")
    async def crash(ctx: Ctx, args: str) -> Reply:
        ctx.user.timezone = "Asia/Tokyo"
        await ctx.session.flush()
        raise RuntimeError("boom")

    @broken.command("refuse", usage="/refuse", summary="refuses", area="everyone")
    async def refuse(ctx: Ctx, args: str) -> Reply:
        ctx.user.timezone = "Asia/Tokyo"
        await ctx.session.flush()
        raise BadInput("No, and here is the right form.")

    router.include(broken)
    try:
        assert "nothing was saved" in await chat.say("/crash")
        assert "right form" in await chat.say("/refuse")
        assert "time zone: UTC" in await chat.say("/settings")
    finally:
        del router.commands["crash"], router.commands["refuse"]


async def test_expired_button_gets_a_clear_message(chat: ChatDriver) -> None:
    replies = await chat.press("nosuch.action:1")
    assert "expired" in replies[0].plain_text()


async def test_help_lists_every_registered_command(core: Runtime, chat: ChatDriver) -> None:
    text = await chat.say("/help")
    for spec in core.dispatcher.router.specs():
        assert f"/{spec.name}" in text


async def test_huge_and_empty_messages_get_clear_replies(core: Runtime, chat: ChatDriver) -> None:
    huge = await chat.say("/settings tz " + "x" * 100_000)
    assert "too long" in huge and "100,013" in huge
    assert await chat.say("") == ""  # nothing to answer, and no error
    # Plain text goes to the tutor, which has no model configured here.
    assert "No AI model is connected" in await chat.say("   hello   ")
    long_zone = await chat.say("/settings tz " + "Q" * 5_000)
    assert "Area/City" in long_zone and len(long_zone) < 300


async def test_unicode_and_rtl_text_is_kept_intact(core: Runtime, make_chat) -> None:  # type: ignore[no-untyped-def]
    rtl = make_chat("שלום 🧸")
    assert "שלום" in await rtl.say("/start")


async def test_a_platform_failing_to_show_the_reply_loses_nothing(
    core: Runtime, chat: ChatDriver
) -> None:
    async def broken_platform(reply: Reply) -> None:
        raise ConnectionError("platform down")

    incoming = Incoming(chat.sender, chat.chat, text="/settings tz Asia/Tokyo", mentioned=True)
    replies = await core.dispatcher.handle(incoming, broken_platform)
    assert "Asia/Tokyo" in replies[0].plain_text()
    assert "Asia/Tokyo" in await chat.say("/settings")


async def test_suggestions_are_scoped_to_the_person_and_their_rooms(
    core: Runtime, make_chat
) -> None:  # type: ignore[no-untyped-def]
    ann, bob = make_chat("ann", room="g1"), make_chat("bob", room="g1")
    eve = make_chat("eve", room="g2")
    await ann.say("/roomtask Poster")
    await ann.say("/task Ann's own")
    await bob.say("/task Bob's own")
    await eve.say("/start")
    suggest = core.dispatcher.suggest
    assert await suggest(ann.sender, ann.chat, "task", "") == [("1. Ann's own", "1")]
    assert await suggest(bob.sender, bob.chat, "roomtask", "pos") == [("1. Poster", "1")]
    # Eve is no member of g1: asking from there offers her nothing of the room's.
    assert await suggest(eve.sender, ann.chat, "roomtask", "") == []
    # Someone never seen gets nothing, and nothing is created for them.
    stranger = make_chat("zed", room="g1")
    assert await suggest(stranger.sender, stranger.chat, "task", "") == []
    assert await count(core, User) == 3
    assert await suggest(ann.sender, ann.chat, "no-such-source", "") == []
