"""The in-app inbox (站内消息): reminders and notices for one user."""
