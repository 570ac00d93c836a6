"""Start Debian's headless Chromium through Selenium with the flags this closed network needs.

Without --disable-background-networking and friends, Chromium tries to reach Google services on start and hangs
on connections nobody answers here. The driver is given explicitly so Selenium Manager never downloads anything.
"""
import os
import shutil
import tempfile

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,900",
)


def browser_available():
    return os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)


class Browser:
    """One Chromium with a fresh temporary profile: `with Browser() as driver:` or start()/stop()."""

    def __init__(self, lang="fr-FR", extra_flags=()):
        self.lang = lang
        self.extra_flags = tuple(extra_flags)
        self.driver = None
        self._profile = None

    def start(self):
        # Imported here so test collection works even where selenium is missing.
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager: never look anything up online
        self._profile = tempfile.mkdtemp(prefix="deme-chromium-")
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in FLAGS + self.extra_flags:
            options.add_argument(flag)
        options.add_argument("--user-data-dir=" + self._profile)
        options.add_argument("--lang=" + self.lang)
        service = Service(executable_path=CHROMEDRIVER)
        try:
            self.driver = webdriver.Chrome(options=options, service=service)
        except BaseException:
            shutil.rmtree(self._profile, ignore_errors=True)
            raise
        self.driver.set_page_load_timeout(30)
        self.driver.set_script_timeout(30)
        return self.driver

    def stop(self):
        if self.driver is not None:
            try:
                self.driver.quit()
            finally:
                self.driver = None
        if self._profile:
            shutil.rmtree(self._profile, ignore_errors=True)
            self._profile = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
