"""The AI tutor: conversation with memory, explain, quiz, grounded answers, tool calls."""
