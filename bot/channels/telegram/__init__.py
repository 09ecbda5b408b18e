"""Telegram over python-telegram-bot: webhook and polling in, paced sends out."""
