from django.db import migrations, models

# Authenticator secrets are stored sealed (``prisoners.staff.totp.seal``): a copy of the
# database alone no longer gives the codes of the staff. Existing secrets are sealed in place.


def seal_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    from prisoners.staff import totp

    device_model = apps.get_model("staff", "TOTPDevice")
    for device in device_model.objects.all():
        device.sealed_secret = totp.seal(device.secret)
        device.save(update_fields=["sealed_secret"])


def unseal_existing(apps, schema_editor):  # type: ignore[no-untyped-def]
    from prisoners.staff import totp

    device_model = apps.get_model("staff", "TOTPDevice")
    for device in device_model.objects.all():
        device.secret = totp.unseal(device.sealed_secret)
        device.save(update_fields=["secret"])


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0003_duplicates"),
    ]

    operations = [
        migrations.AddField(
            model_name="totpdevice",
            name="sealed_secret",
            field=models.TextField(
                default="",
                help_text="The base32 secret of the app, encrypted (totp.seal).",
                verbose_name="sealed secret",
            ),
            preserve_default=False,
        ),
        migrations.RemoveConstraint(model_name="totpdevice", name="staff_totpdevice_secret"),
        migrations.RunPython(seal_existing, unseal_existing),
        # A default first, so that going back can add the column to existing rows (which
        # the reverse of the step above then fills).
        migrations.AlterField(
            model_name="totpdevice",
            name="secret",
            field=models.CharField(
                default="",
                help_text="Base32, as in the app.",
                max_length=64,
                verbose_name="secret",
            ),
        ),
        migrations.RemoveField(model_name="totpdevice", name="secret"),
        migrations.AddConstraint(
            model_name="totpdevice",
            constraint=models.CheckConstraint(
                condition=models.Q(("sealed_secret__startswith", "fernet:")),
                name="staff_totpdevice_sealed",
            ),
        ),
    ]
