"""A weekly retrain on the beat schedule, created disabled: staff switch it on (and edit it) in the admin."""

from django.db import migrations

NAME = "Retrain the CNN on MNIST + accepted feedback (weekly)"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    sunday_night, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="3", day_of_week="0", day_of_month="*", month_of_year="*", timezone="UTC")
    PeriodicTask.objects.get_or_create(name=NAME, defaults={
        "task": "worker.tasks.retrain_periodically", "crontab": sunday_night, "enabled": False,
        "kwargs": '{"feedback": true}', "queue": "training",
        "description": "Queues one retrain ExperimentRun; the new version becomes active only if it is "
                       "at least as accurate as the active one on the same test images.",
    })


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
