"""Local stand-ins of SMS and voice providers for development and tests (loopback only).

Not part of the library: nothing in `contacts` outside this package imports it. Each module runs
as its own process (`python -m contacts.standins.twilio`, `python -m contacts.standins.aliyun`)
or in-process from a thread (`with TwilioStandIn() as fake: …`).
"""
