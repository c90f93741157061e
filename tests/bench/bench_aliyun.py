"""Aliyun SMS benchmark: the contacts backend vs the raw dysmsapi SDK in a bare loop, both against the
loopback stand-in, in the same run.

    python -m tests.bench.bench_aliyun [--messages 300] [--rounds 3]

For the application's outbox, `time_outbox(drain, n)` starts the stand-in, builds the aliyun gateway
(`standin_gateway_config`) and times `drain(gateway, n)`, a callable that queues n messages and drains
the outbox through that gateway; it checks that the stand-in received exactly n messages.
"""

import argparse
import json
import os
import statistics
import time
from collections.abc import Callable

from alibabacloud_dysmsapi20170525 import models as sms_models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi.utils_models import Config
from darabonba.runtime import RuntimeOptions

from contacts import DispatchNotice, SmsGateway, create_gateway
from contacts.standins.aliyun import AliyunStandIn, standin_template_codes
from contacts.templating import render_message


def standin_gateway_config(standin: AliyunStandIn, **overrides: object) -> dict:
    """The aliyun backend config pointing at `standin` (every SMS kind has a stand-in template code)."""
    return {
        "access_key_id": standin.access_key_id,
        "access_key_secret": standin.access_key_secret,
        "sign_name": "宁夏应急",
        "callback_token": "bench-token",
        "base_url": standin.base_url,
        "templates": standin_template_codes(),
        "timeout_s": 5,
    } | overrides


def _messages(n: int, offset: int) -> list:
    out = []
    for i in range(n):
        notice = DispatchNotice(
            incident_no=f"B{offset + i:06d}",
            event_type="危化品泄漏",
            level="较大",
            town="宁东镇",
            task="堵漏",
            muster_point="宁东消防站",
            route="G6",
            eta_min=45,
            reply_code="K7Q",
        )
        out.append(render_message(notice).outgoing(f"+86139{offset + i:08d}", f"bench-{offset + i}"))
    return out


def bench_backend(gateway: SmsGateway, messages: list) -> float:
    """msg/s of `gateway.send` over `messages`."""
    start = time.perf_counter()
    for sms in messages:
        gateway.send(sms)
    return len(messages) / (time.perf_counter() - start)


def bench_raw_sdk(standin: AliyunStandIn, messages: list) -> float:
    """msg/s of the bare SDK: SendSms with the same parameters, no error mapping, no validation."""
    host = standin.base_url.split("://")[1]
    client = Client(
        Config(access_key_id=standin.access_key_id, access_key_secret=standin.access_key_secret, endpoint=host, protocol="http")
    )
    runtime = RuntimeOptions(read_timeout=5000, connect_timeout=5000)
    code = standin_template_codes()["dispatch"]
    start = time.perf_counter()
    for sms in messages:
        request = sms_models.SendSmsRequest(
            phone_numbers=sms.to[3:],
            sign_name="宁夏应急",
            template_code=code,
            template_param=json.dumps(dict(sms.params), ensure_ascii=False),
            out_id=sms.reference,
        )
        body = client.send_sms_with_options(request, runtime).body
        if body.code != "OK":
            raise RuntimeError(body.code)
    return len(messages) / (time.perf_counter() - start)


def time_outbox(drain: Callable[[SmsGateway, int], None], n: int = 300) -> float:
    """msg/s of `drain(gateway, n)` (the app's outbox) through the aliyun backend against the stand-in."""
    with AliyunStandIn() as standin:
        gateway = create_gateway("aliyun", standin_gateway_config(standin))
        start = time.perf_counter()
        drain(gateway, n)
        rate = n / (time.perf_counter() - start)
        if len(standin.messages) != n:
            msg = f"the stand-in received {len(standin.messages)} messages, not {n}"
            raise AssertionError(msg)
    return rate


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)
    load_start = os.getloadavg()[0]
    backend, raw = [], []
    with AliyunStandIn(auto_reports=False) as standin:
        gateway = create_gateway("aliyun", standin_gateway_config(standin))
        _ = bench_backend(gateway, _messages(20, 10**6))  # warm-up: connection pool, imports
        offset = 0
        for _round in range(args.rounds):
            # Alternate so that a change of machine load hits both alike.
            backend.append(bench_backend(gateway, _messages(args.messages, offset)))
            offset += args.messages
            raw.append(bench_raw_sdk(standin, _messages(args.messages, offset)))
            offset += args.messages
        sent = len(standin.messages)
        expected = 20 + 2 * args.rounds * args.messages
        if sent != expected:
            msg = f"the stand-in received {sent} messages, expected {expected}"
            raise AssertionError(msg)
    load_end = os.getloadavg()[0]
    print(f"messages per round: {args.messages}, rounds: {args.rounds}, stand-in received {sent}")
    print(
        f"aliyun backend -> stand-in : median {statistics.median(backend):.0f} msg/s  ({', '.join(f'{r:.0f}' for r in backend)})"
    )
    print(f"raw dysmsapi SDK -> stand-in: median {statistics.median(raw):.0f} msg/s  ({', '.join(f'{r:.0f}' for r in raw)})")
    print(f"backend / raw: {statistics.median(backend) / statistics.median(raw):.2f}")
    print(f"load average: {load_start:.2f} at the start, {load_end:.2f} at the end")


if __name__ == "__main__":
    main()
