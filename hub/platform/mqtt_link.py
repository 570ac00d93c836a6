"""One small wrapper around paho-mqtt 2.x for the hub.

- Subscriptions are made in on_connect, so they come back after every reconnect.
- Received QoS 1 messages are acknowledged only after the handler returns (manual_ack=True): the handler commits
  first. A handler exception is caught here, so it can never kill paho's network thread, and the message stays
  unacknowledged (the broker redelivers it after a reconnect).
- publish() returns at once; `on_published(token)` is called when the broker has the message (PUBACK). It never
  raises for a lost connection: paho keeps a QoS 1 message it could not send (rc "not connected") and sends it on
  the next connection, and on_published follows that PUBACK. pending_tokens() says which are still on their way,
  so a catch-up after a reconnection does not publish them a second time.
"""
import logging
import threading

import paho.mqtt.client as mqtt

log = logging.getLogger(__name__)

KEEPALIVE_S = 30
# Held by paho and sent on the next connection: the publication is not lost, only late.
_KEPT_BY_PAHO = (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN)


class MQTTLink:
    def __init__(self, host, port, client_id, username=None, password=None, subscriptions=(), on_message=None,
                 on_published=None, on_link=None, will=None):
        self.host = host
        self.port = port
        self.client_id = client_id
        self.username = username
        self.password = password
        self.subscriptions = tuple(subscriptions)
        self.on_message = on_message
        self.on_published = on_published
        self.on_link = on_link or (lambda up, detail: None)
        self.will = will
        self.connected = threading.Event()
        self._client = None
        self._tokens = {}
        self._lock = threading.Lock()

    def start(self):
        client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=False,
                             manual_ack=True)
        if self.username:
            client.username_pw_set(self.username, self.password)
        if self.will:
            topic, payload = self.will
            client.will_set(topic, payload, qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_publish = self._on_publish
        self._client = client
        client.connect_async(self.host, self.port, keepalive=KEEPALIVE_S)
        client.loop_start()
        return self

    def stop(self):
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None
        self.connected.clear()

    def publish(self, topic, payload, qos=1, retain=False, token=None):
        info = self._client.publish(topic, payload, qos=qos, retain=retain)
        if info.rc not in _KEPT_BY_PAHO:
            # Not queued at all (paho refused it): never announced as published, so the catch-up sends it again.
            log.warning("MQTT publish on %s refused: %s", topic, mqtt.error_string(info.rc))
            return info
        if token is not None:
            with self._lock:
                # is_published() is only asked of a message paho has sent: for one it holds until the next
                # connection it raises, and that connection's PUBACK will come through _on_publish.
                if info.rc == mqtt.MQTT_ERR_SUCCESS and info.is_published():
                    published_now = True
                else:
                    self._tokens[info.mid] = token
                    published_now = False
            if published_now and self.on_published:
                self.on_published(token)
        return info

    def pending_tokens(self):
        """Tokens of the messages paho holds or has sent and whose PUBACK has not come yet."""
        with self._lock:
            return set(self._tokens.values())

    # -- paho callbacks (paho's network thread) ----------------------------------------------------------
    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if reason_code.is_failure:
            log.warning("MQTT connection refused: %s", reason_code)
            self.on_link(False, str(reason_code))
            return
        for topic in self.subscriptions:
            client.subscribe(topic, qos=1)
        self.connected.set()
        self.on_link(True, f"{self.host}:{self.port}")

    def _on_disconnect(self, client, userdata, flags, reason_code, properties):
        self.connected.clear()
        self.on_link(False, str(reason_code))

    def _on_publish(self, client, userdata, mid, reason_code, properties):
        with self._lock:
            token = self._tokens.pop(mid, None)
        if token is not None and self.on_published:
            try:
                self.on_published(token)
            except Exception:
                log.exception("on_published handler failed")

    def _on_message(self, client, userdata, message):
        try:
            if self.on_message:
                self.on_message(message.topic, message.payload)
        except Exception:
            # Not acknowledged: the broker keeps it and redelivers on the next session.
            log.exception("MQTT message on %s not handled; left unacknowledged", message.topic)
            return
        client.ack(message.mid, message.qos)
