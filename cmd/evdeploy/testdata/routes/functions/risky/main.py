def handler(event, context):
    # Always fails: its asynchronous invocations end in the on_failure queue.
    raise RuntimeError("risky failed on %r" % (event,))
