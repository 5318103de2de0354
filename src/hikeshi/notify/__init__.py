"""Department coordination (連絡体制): contacts per department and message deliveries.

Messages are queued as :class:`~hikeshi.notify.models.Delivery` rows in the caller's transaction
and sent by the ``notify.deliver`` job after commit (email over SMTP, Slack and Microsoft Teams
incoming webhooks), so a slow or broken channel never holds up, or rolls back, the use case that
wanted the message.
"""
