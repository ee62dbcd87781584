"""What travels between the service and SendGrid, read by the worker's client, the
webhook's checks and translation, and the SendGrid stand-in alike.

- Every message the worker sends carries the outbox row's id under a custom argument
  named for the project (so another sender's events on the same account never match), and
  SendGrid copies it into every Event Webhook event about the message.
- SendGrid signs each Event Webhook batch and sends the signature and its timestamp in
  these two headers.
- SendGrid posts a batch when it reaches 768 KB or every 30 s (its Event Webhook docs);
  the webhook takes up to four times that, and anything more is not SendGrid.
"""

EMAIL_ID_ARG = "remosphere_email_id"
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"
EVENT_BATCH_BYTES = 768 * 1024
EVENT_BODY_MAX_BYTES = 4 * 1024 * 1024
