"""Build step for ``pip install``: the compiled kernels (``corpus/_kernels.py``) ahead of time,
and the tables every start would otherwise build saved (``corpus.prebuilt``: language id's,
the character flags').

Everything else is in pyproject.toml. The extension ``corpus._kernels_aot`` is optional:
when it cannot be built, the kernels run under numba's JIT instead (slower start-up).
"""

import compileall
import os
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

TABLES = ("_langid_tables.pickle", "_char_flags.pickle")  # corpus.langid.TABLE_CACHE, segment.FLAG_BLOCKS


class BuildKernels(build_ext):
    def build_extension(self, ext: Extension) -> None:
        if ext.name != "corpus._kernels_aot":
            return super().build_extension(ext)
        os.environ["CHHANNI_KERNELS"] = "jit"  # build from the numba source, not an older build
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        built = Path(self.get_ext_fullpath(ext.name)).resolve()
        try:
            from corpus._kernels import build_compiled_module

            build_compiled_module(built)
        except Exception as error:  # noqa: BLE001 — optional: the JIT path still works
            print(f"warning: corpus._kernels_aot not built ({error}); kernels will use numba's JIT")
        try:  # tables saved so that each start loads them (~45 ms and ~8 ms less)
            from corpus.langid import write_table_cache
            from corpus.segment import write_flag_blocks

            write_table_cache(str(built.with_name(TABLES[0])))
            write_flag_blocks(str(built.with_name(TABLES[1])))
        except Exception as error:  # noqa: BLE001 — optional: built at each start instead
            print(f"warning: tables not saved ({error}); they are built at each start")
        # Bytecode now, as pip writes it for a regular install: an editable install would
        # otherwise compile every module at each start where PYTHONDONTWRITEBYTECODE is set.
        compileall.compile_dir(Path(__file__).resolve().parent / "corpus", quiet=1)

    def copy_extensions_to_source(self) -> None:
        """An editable install copies the built extension into the source tree: the tables too."""
        super().copy_extensions_to_source()
        package_dir = self.get_finalized_command("build_py").get_package_dir("corpus")
        for name in TABLES:
            built = Path(self.build_lib) / "corpus" / name
            if built.exists():
                self.copy_file(str(built), os.path.join(package_dir, name))


setup(
    ext_modules=[Extension("corpus._kernels_aot", sources=[], optional=True)],
    cmdclass={"build_ext": BuildKernels},
)
