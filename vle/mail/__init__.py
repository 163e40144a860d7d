"""Mail: the outbox, the mail templates in every language, the huey queue and
its tasks. It sits on the bottom floor, beside the audit log: any domain may
queue a mail (`services.queue_mail`) or define a background task
(`queue.task`, `queue.periodic_task`)."""
