"""Webhooks: every change of the registry pushed to members' HTTPS endpoints, signed, retried, durable.

* :mod:`~ringfence.webhooks.models` what a webhook and a delivery are;
* :mod:`~ringfence.webhooks.urls` which endpoint URLs are accepted;
* :mod:`~ringfence.webhooks.signing` the secret and the ``Ringfence-Signature`` header;
* :mod:`~ringfence.webhooks.store` the tables: webhooks, the durable delivery queue and its log;
* :mod:`~ringfence.webhooks.service` what members do with their webhooks (the API and the CLI call it);
* :mod:`~ringfence.webhooks.delivery` one HTTP attempt, and the retry schedule;
* :mod:`~ringfence.webhooks.dispatcher` changes into deliveries, deliveries claimed, sent and recorded;
* :mod:`~ringfence.webhooks.daemon` the daemon that runs the dispatcher on a serving node.
"""

from ringfence.webhooks.models import Delivery, DeliveryKind, DeliveryStatus, Webhook
from ringfence.webhooks.service import WebhookService

__all__ = ["Delivery", "DeliveryKind", "DeliveryStatus", "Webhook", "WebhookService"]
