"""A weekly benchmark and a monthly ablation on the beat schedule, created disabled (as the weekly retrain):
staff switch them on, and edit their schedule or kwargs, under *Periodic tasks* in the admin."""

from django.db import migrations

BENCHMARK = "Benchmark the six families on MNIST (weekly)"
ABLATION = "CNN ablation studies (monthly)"


def create(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    # Saturday night and the first night of the month: away from Sunday's retrain. The training worker
    # runs one job at a time anyway, so an overlap only queues one behind the other.
    saturday, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="1", day_of_week="6", day_of_month="*", month_of_year="*", timezone="UTC")
    first_of_month, _ = CrontabSchedule.objects.get_or_create(
        minute="0", hour="1", day_of_week="*", day_of_month="1", month_of_year="*", timezone="UTC")
    PeriodicTask.objects.get_or_create(name=BENCHMARK, defaults={
        "task": "worker.tasks.benchmark_periodically", "crontab": saturday, "enabled": False,
        "kwargs": "{}", "queue": "training",
        "description": "Queues one benchmark ExperimentRun (all six families on the full MNIST split, about "
                       "half an hour on 2 cores); skipped while another benchmark is queued or running. "
                       'kwargs take the run\'s parameters, e.g. {"families": "logreg,cnn", "limit": 10000}.',
    })
    PeriodicTask.objects.get_or_create(name=ABLATION, defaults={
        "task": "worker.tasks.ablate_periodically", "crontab": first_of_month, "enabled": False,
        "kwargs": '{"epochs": 10, "seeds": 3}', "queue": "training",
        "description": "Queues one ablation ExperimentRun; skipped while another ablation is queued or "
                       "running. All six studies with the thesis recipe take about half a day on 2 cores, "
                       "within DIGITSCAN_STUDY_TIME_LIMIT_S (48 h by default); make it smaller with its "
                       'kwargs, e.g. {"studies": "pool,dropout", "limit": 10000}.',
    })


def remove(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name__in=[BENCHMARK, ABLATION]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0003_study_runs"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]
    operations = [migrations.RunPython(create, remove)]
