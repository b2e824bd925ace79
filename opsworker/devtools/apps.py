from django.apps import AppConfig


class DevtoolsConfig(AppConfig):
    """`make run` and the demo: the commands that set up a demo organization across every feature.

    Installed so Django finds its management commands; it has no models. It sits in the
    composition layer, above every feature app, because the demo touches all of them.
    """

    name = "opsworker.devtools"
    label = "devtools"
    verbose_name = "Developer tools and the demo"
