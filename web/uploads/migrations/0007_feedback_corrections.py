"""Corrections digit by digit: Feedback.operations replaces Feedback.digits.

Existing corrections are aligned to their reading again (web.uploads.alignment), so that those whose digit
count differed from the reading, stored without per-digit data until now, become training data too.
"""

from django.db import migrations, models


def align_existing(apps, schema_editor):
    from web.errors import ApplicationError
    from web.uploads.alignment import operations_from_text

    Feedback = apps.get_model("uploads", "Feedback")
    for feedback in Feedback.objects.select_related("upload").order_by("created"):
        upload = feedback.upload
        try:
            ops = operations_from_text(feedback.text, digits=upload.digits or [],
                                       separators=upload.separators or [], current=[])
        except ApplicationError:
            ops = []
        Feedback.objects.filter(id=feedback.id).update(operations=ops)


class Migration(migrations.Migration):

    dependencies = [
        ("uploads", "0006_batches_screen_images"),
    ]

    operations = [
        migrations.AddField(
            model_name="feedback",
            name="operations",
            field=models.JSONField(blank=True, default=list, verbose_name="operations"),
        ),
        migrations.AlterField(
            model_name="feedback",
            name="text",
            field=models.TextField(blank=True, help_text="the corrected digits, lines separated by spaces",
                                   verbose_name="text"),
        ),
        migrations.RunPython(align_existing, migrations.RunPython.noop),
        migrations.RemoveField(model_name="feedback", name="digits"),
    ]
