'use strict';

const express = require('express');
const axios = require('axios');
const { randomUUID } = require('crypto');

const SLACK_WEBHOOK = '⟦slack-webhook⟧';
const DISCORD_WEBHOOK = "⟦discord-webhook⟧";
const TELEGRAM_TOKEN = '⟦telegram-bot-token⟧';
const twilio = require('twilio')('AC3f9d2c71b5e84a06c1d27e9f3b5a8c04', '⟦twilio-api-key⟧');
const slackToken = process.env.SLACK_BOT_TOKEN || '⟦slack-bot-token⟧';
const fallbackChannel = ⟦~process.env.SLACK_CHANNEL⟧;

const app = express();
app.use(express.json());

app.post('/notify', async (req, res) => {
  const requestId = '⟦~3b241101-e2bb-4255-8caf-4136c566a962⟧';
  await axios.post(SLACK_WEBHOOK, { text: req.body.message });
  await axios.post(`https://api.telegram.org/bot${TELEGRAM_TOKEN}/sendMessage`, { chat_id: 42, text: req.body.message });
  res.json({ ok: true, requestId: randomUUID() });
});

module.exports = app;
