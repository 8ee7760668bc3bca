"""People, their platform accounts, and rooms (group chats) with memberships."""
