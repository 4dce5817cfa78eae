"""Steps of the React Project Setup skill: a Vite + React app with the chosen styling,
ESLint and Prettier, Jest + React Testing Library, and a first git commit.

Every file a step writes follows from the parameters and the persona alone (never from a
command's output), so the dry run lists exactly the files the real run creates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from skills.context import StepContext
from skills.errors import StepError
from skills.git import identity_arguments

TAILWIND = "Tailwind CSS"
STYLED_COMPONENTS = "Styled Components"
CSS_MODULES = "CSS Modules"

# Caret ranges of the versions current when this skill was last updated (`npm view NAME
# version`). Held back on purpose, each by a peer range or by Node 20 support: typescript
# (typescript-eslint supports < 6.1), Babel 7 (Babel 8 needs Node 22), jest-dom 6 (7 needs
# Node 22), @types/node (the line create-vite uses).
VERSIONS = {
    "react": "^19.3.1",
    "react-dom": "^19.3.1",
    "styled-components": "^6.6.0",
    "vite": "^8.3.8",
    "@vitejs/plugin-react": "^6.3.0",
    "@types/react": "^19.3.0",
    "@types/react-dom": "^19.3.0",
    "@types/node": "^24.19.2",
    "typescript": "~6.0.3",
    "tailwindcss": "^4.3.5",
    "@tailwindcss/vite": "^4.3.5",
    "eslint": "^10.15.0",
    "@eslint/js": "^10.0.1",
    "typescript-eslint": "^8.73.0",
    "eslint-plugin-react-hooks": "^7.1.1",
    "eslint-plugin-react-refresh": "^0.5.8",
    "eslint-config-prettier": "^10.1.8",
    "globals": "^17.14.0",
    "prettier": "^3.10.1",
    "jest": "^30.5.2",
    "jest-environment-jsdom": "^30.5.2",
    "babel-jest": "^30.5.2",
    "@babel/core": "^7.29.13",
    "@babel/preset-env": "^7.29.14",
    "@babel/preset-react": "^7.29.7",
    "@babel/preset-typescript": "^7.29.7",
    "@testing-library/react": "^16.3.3",
    "@testing-library/dom": "^10.4.2",
    "@testing-library/jest-dom": "^6.9.1",
    "@types/jest": "^30.0.0",
    "identity-obj-proxy": "^3.0.0",
}

# Vite 8's own range: the generated project says so in "engines".
NODE_ENGINES = "^20.19.0 || >=22.12.0"


@dataclass(frozen=True)
class Element:
    """One element of the starter component, styled the same way by every styling option."""

    role: str
    tag: str
    utilities: str  # Tailwind CSS classes
    css: tuple[str, ...]  # declarations, for CSS Modules and Styled Components
    hover: tuple[str, ...] = ()

    @property
    def component_name(self) -> str:
        """The Styled Components name: ``intro`` -> ``Intro``."""
        return self.role[:1].upper() + self.role[1:]

    def jsx_name(self, styling: str) -> str:
        return self.component_name if styling == STYLED_COMPONENTS else self.tag

    def class_attributes(self, styling: str) -> list[str]:
        if styling == CSS_MODULES:
            return [f"className={{styles.{self.role}}}"]
        if styling == TAILWIND:
            return [f'className="{self.utilities}"']
        return []


@dataclass(frozen=True)
class StarterMarkup:
    """Opening and closing tags of the starter component's elements, for one styling option.

    Tags are laid out as Prettier would, so ``npm run format`` finds nothing to change.
    """

    styling: str

    def open(self, role: str, *attributes: str, indent: int) -> str:
        element = _ELEMENTS_BY_ROLE[role]
        parts = [element.jsx_name(self.styling), *element.class_attributes(self.styling), *attributes]
        one_line = f"<{' '.join(parts)}>"
        if indent + len(one_line) <= PRETTIER_PRINT_WIDTH or len(parts) <= 2:
            return one_line
        lines = [f"<{parts[0]}", *(f"{' ' * (indent + 2)}{part}" for part in parts[1:]), f"{' ' * indent}>"]
        return "\n".join(lines)

    def close(self, role: str) -> str:
        return f"</{_ELEMENTS_BY_ROLE[role].jsx_name(self.styling)}>"

    def element(self, role: str, text: str, indent: int) -> str:
        """A whole element around ``text``: on one line if it fits, else text on its own line."""
        opening, closing = self.open(role, indent=indent), self.close(role)
        if indent + len(opening) + len(text) + len(closing) <= PRETTIER_PRINT_WIDTH:
            return f"{opening}{text}{closing}"
        return f"{opening}\n{' ' * (indent + 2)}{text}\n{' ' * indent}{closing}"


STARTER_ELEMENTS = (
    Element(
        "page", "main",
        "mx-auto flex min-h-screen max-w-2xl flex-col items-center justify-center gap-6 p-8 text-center",
        ("display: flex", "flex-direction: column", "align-items: center", "justify-content: center",
         "gap: 1.5rem", "max-width: 42rem", "min-height: 100vh", "margin: 0 auto", "padding: 2rem",
         "text-align: center"),
    ),
    Element(
        "title", "h1", "text-4xl font-bold tracking-tight",
        ("margin: 0", "font-size: 2.25rem", "font-weight: 700", "letter-spacing: -0.025em"),
    ),
    Element("intro", "p", "opacity-80", ("margin: 0", "opacity: 0.8")),
    Element(
        "button", "button", "cursor-pointer rounded-lg bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-500",
        ("padding: 0.5rem 1rem", "border: 0", "border-radius: 0.5rem", "font: inherit", "font-weight: 500",
         "color: #fff", "background: #4f46e5", "cursor: pointer"),
        hover=("background: #6366f1",),
    ),
)
_ELEMENTS_BY_ROLE = {element.role: element for element in STARTER_ELEMENTS}
PRETTIER_PRINT_WIDTH = 80


@dataclass(frozen=True)
class Layout:
    """Where the source files go: Vite's flat ``src/``, or feature folders (architect persona)."""

    typescript: bool
    feature_folders: bool

    @property
    def script(self) -> str:
        return "ts" if self.typescript else "js"

    @property
    def jsx(self) -> str:
        return "tsx" if self.typescript else "jsx"

    @property
    def component(self) -> str:
        """The starter component: ``App`` itself, or the ``Welcome`` feature that ``App`` shows."""
        return "Welcome" if self.feature_folders else "App"

    @property
    def component_folder(self) -> str:
        return "src/features/welcome" if self.feature_folders else "src"

    @property
    def counter_hook(self) -> str:
        return f"src/shared/hooks/useCounter.{self.script}"


def layout_of(ctx: StepContext) -> Layout:
    return Layout(typescript=ctx.params["useTypescript"], feature_folders=ctx.persona == "architect")


def render(ctx: StepContext, template: str, **extra: Any) -> str:
    """``ctx.render`` with the layout and the file extensions every template needs."""
    layout = layout_of(ctx)
    return ctx.render(template, layout=layout, script=layout.script, jsx=layout.jsx, **extra)


def validate_parameters(ctx: StepContext) -> dict[str, Any]:
    """Re-check, at execution time, that the target folder is still free."""
    if not ctx.workspace.is_empty_dir_or_missing(ctx.target):
        raise StepError(
            f"Folder {ctx.workspace.path(ctx.target)} already exists and is not empty.",
            ["Choose another projectName, or move that folder out of the workspace."],
        )
    ctx.log(f"Creating project {ctx.params['projectName']} in {ctx.target}/")
    return {"target": ctx.target}


def check_environment(ctx: StepContext) -> dict[str, Any]:
    for check in ctx.environment.checks:
        ctx.log(check.message, "info" if check.ok else "warning")
    if ctx.environment.errors:
        raise StepError(
            "The environment does not meet this skill's requirements: " + "; ".join(ctx.environment.errors),
            ["Install Node.js 20.19 or newer (with npm) and git, then run the skill again."],
        )
    return {check.tool: check.found for check in ctx.environment.checks}


def create_project_directory(ctx: StepContext) -> dict[str, Any]:
    """The project folder and Vite's skeleton: index.html, vite config, entry module."""
    layout = layout_of(ctx)
    ctx.workspace.make_dirs(ctx.target)
    ctx.workspace.make_dirs(ctx.file("src"))
    ctx.workspace.make_dirs(ctx.file("public"))
    if ctx.persona == "security":
        ctx.persona_change("index.html carries a Content-Security-Policy (enforced in builds and previews)")
    ctx.workspace.write_text(ctx.file("README.md"), render(ctx, "README.md.j2", scripts=package_manifest(ctx)["scripts"]))
    ctx.workspace.write_text(ctx.file("index.html"), render(ctx, "index.html.j2"))
    ctx.workspace.write_text(ctx.file(f"vite.config.{layout.script}"), render(ctx, "vite.config.j2", tailwind=False))
    ctx.workspace.write_text(ctx.file(f"src/main.{layout.jsx}"), render(ctx, "main.jsx.j2"))
    ctx.workspace.write_text(ctx.file("public/favicon.svg"), render(ctx, "favicon.svg.j2"))
    if ctx.persona == "devops":
        ctx.persona_change("public/health.json: a static health check for load balancers and container probes")
        ctx.workspace.write_text(ctx.file("public/health.json"), _json({"status": "ok", "service": ctx.params["projectName"]}))
    if layout.feature_folders:
        ctx.persona_change("feature-folder layout: src/features/welcome/ for features, src/shared/ for shared code")
        ctx.workspace.write_text(ctx.file(f"src/App.{layout.jsx}"), render(ctx, "App-shell.jsx.j2"))
        ctx.workspace.write_text(ctx.file(layout.counter_hook), render(ctx, "useCounter.j2"))
    return {"path": ctx.target}


def install_dependencies(ctx: StepContext) -> dict[str, Any]:
    """Write the complete package.json (every later step's dependencies too), then ``npm install``."""
    manifest = package_manifest(ctx)
    if ctx.persona == "security":
        ctx.persona_change("`npm run audit` fails on known high or critical vulnerabilities in dependencies")
    if ctx.persona == "devops":
        ctx.persona_change("`npm run build:docker`: a lock-file-exact install and production build for a Dockerfile")
    ctx.workspace.write_text(ctx.file("package.json"), _json(manifest))
    if ctx.params["installDependencies"]:
        ctx.run(
            ["npm", "install", "--no-audit", "--no-fund"],
            creates=["package-lock.json"],
            creates_dirs=["node_modules"],
        )
    else:
        ctx.log("installDependencies is off: run `npm install` in the project before using it")
    return {"dependencies": len(manifest["dependencies"]), "devDependencies": len(manifest["devDependencies"])}


def package_manifest(ctx: StepContext) -> dict[str, Any]:
    """package.json for the chosen options and persona."""
    typescript, styling, testing = ctx.params["useTypescript"], ctx.params["styling"], ctx.params["testing"]
    runtime = ["react", "react-dom"] + (["styled-components"] if styling == STYLED_COMPONENTS else [])
    tools = [
        "vite", "@vitejs/plugin-react", "@types/react", "@types/react-dom",
        "eslint", "@eslint/js", "eslint-plugin-react-hooks", "eslint-plugin-react-refresh",
        "eslint-config-prettier", "globals", "prettier",
    ]
    if typescript:
        tools += ["typescript", "typescript-eslint", "@types/node"]
    if styling == TAILWIND:
        tools += ["tailwindcss", "@tailwindcss/vite"]
    if testing:
        tools += [
            "jest", "jest-environment-jsdom", "babel-jest", "@babel/core", "@babel/preset-env",
            "@babel/preset-react", "@testing-library/react", "@testing-library/dom",
            "@testing-library/jest-dom", "identity-obj-proxy",
        ]
        tools += ["@babel/preset-typescript", "@types/jest"] if typescript else []
    scripts = {
        "dev": "vite",
        "build": "tsc -b && vite build" if typescript else "vite build",
        "lint": "eslint .",
        "format": "prettier --write .",
        "preview": "vite preview",
    }
    if testing:
        scripts["test"] = "jest"
    if ctx.persona == "security":
        scripts["audit"] = "npm audit --audit-level=high"
    if ctx.persona == "devops":
        scripts["build:docker"] = "npm ci --no-audit --no-fund && npm run build"
    return {
        "name": ctx.params["projectName"],
        "private": True,
        "version": "0.0.0",
        "type": "module",
        "engines": {"node": NODE_ENGINES},
        "scripts": scripts,
        "dependencies": {name: VERSIONS[name] for name in sorted(runtime)},
        "devDependencies": {name: VERSIONS[name] for name in sorted(tools)},
    }


def configure_typescript(ctx: StepContext) -> dict[str, Any]:
    strict_extras = ctx.persona == "ai-engineer"
    if strict_extras:
        ctx.persona_change(
            "TypeScript strict mode plus noUncheckedIndexedAccess, exactOptionalPropertyTypes, "
            "noImplicitOverride and noImplicitReturns"
        )
    files = ["tsconfig.json", "tsconfig.app.json", "tsconfig.node.json"]
    for name in files:
        ctx.workspace.write_text(ctx.file(name), render(ctx, f"{name}.j2", strict_extras=strict_extras))
    return {"files": files}


def setup_styling(ctx: StepContext) -> dict[str, Any]:
    """Global styles and the starter component, styled with the chosen option."""
    layout, styling = layout_of(ctx), ctx.params["styling"]
    if styling == TAILWIND:
        ctx.workspace.write_text(ctx.file(f"vite.config.{layout.script}"), render(ctx, "vite.config.j2", tailwind=True))
    ctx.workspace.write_text(ctx.file("src/index.css"), render(ctx, "index.css.j2"))
    folder = layout.component_folder
    markup = StarterMarkup(styling)
    component = render(ctx, "component.jsx.j2", elements=STARTER_ELEMENTS, markup=markup)
    ctx.workspace.write_text(ctx.file(f"{folder}/{layout.component}.{layout.jsx}"), component)
    if styling == CSS_MODULES:
        stylesheet = render(ctx, "component.module.css.j2", elements=STARTER_ELEMENTS)
        ctx.workspace.write_text(ctx.file(f"{folder}/{layout.component}.module.css"), stylesheet)
    return {"styling": styling}


def configure_eslint_prettier(ctx: StepContext) -> dict[str, Any]:
    ctx.workspace.write_text(ctx.file("eslint.config.js"), render(ctx, "eslint.config.js.j2"))
    ctx.workspace.write_text(ctx.file(".prettierrc"), _json({"semi": False, "singleQuote": True}))
    ctx.workspace.write_text(ctx.file(".prettierignore"), "dist\ncoverage\npackage-lock.json\n")
    return {"scripts": ["lint", "format"]}


def setup_testing(ctx: StepContext) -> dict[str, Any]:
    layout = layout_of(ctx)
    setup_file = f"src/setupTests.{layout.script}"
    ctx.workspace.write_text(ctx.file("jest.config.js"), render(ctx, "jest.config.js.j2", setup_file=setup_file))
    ctx.workspace.write_text(ctx.file(setup_file), "import '@testing-library/jest-dom'\n")
    ctx.workspace.write_text(ctx.file(f"src/App.test.{layout.jsx}"), render(ctx, "App.test.jsx.j2"))
    return {"script": "test"}


def initialize_git(ctx: StepContext) -> dict[str, Any]:
    ctx.workspace.write_text(ctx.file(".gitignore"), render(ctx, "gitignore.j2"))
    ctx.run(["git", "init", "--initial-branch=main"], creates_dirs=[".git"])
    ctx.run(["git", "add", "-A"])
    # Asked in / (outside any repository, present even before the project exists), where git
    # reads the same system and global configuration the new repository will.
    identity = identity_arguments(Path("/"), lambda message: ctx.log(message, "warning"))
    message = f"Initial commit: {ctx.params['projectName']} from skillworks react-setup"
    ctx.run(["git", *identity, "commit", "--quiet", "-m", message])
    return {"commit_message": message}


def _json(value: Any) -> str:
    return json.dumps(value, indent=2) + "\n"
