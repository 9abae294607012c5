"""Words on the web pages, Chinese first. Result headings reuse the text renderer's table (engine.render.T)."""

from __future__ import annotations

from engine.render import T as RESULT_WORDS

PAGE_WORDS = {
    "zh": {
        "site": "惠企政策自助评估", "switch": "English", "selfcheck": "自助评估", "bureau": "批量上传（工作人员）",
        "rules_page": "规则库", "api": "接口文档", "intro": "填写企业资料和知识产权事件，按评估日查看可获得的奖补、须遵守的要求，以及每项结论依据的政策条款。",
        "profile": "企业资料", "events": "知识产权事件", "add_event": "添加事件", "remove": "删除", "event_type": "事件类型",
        "choose": "请选择", "unknown": "不清楚", "yes": "是", "no": "否", "as_of": "评估日", "submit": "评估",
        "as_of_hint": "按此日期有效的政策评估；页面会预填本机今天的日期，可修改。",
        "size_hint": "不知道企业规模时，可填写行业、从业人员、营业收入和资产总额，由系统按工信部联企业〔2011〕300号推定。",
        "errors": "请改正下列标出的内容", "back": "修改资料", "print": "打印",
        "support": "支持措施（无具体金额）", "clause": "条款原文", "reason": "原因", "would": "如何才能符合",
        "result_for": "评估结果", "notes": "说明", "required": "必填",
        "upload_intro": "上传企业名单（.xlsx 工作簿，含“企业”“事件”两个工作表；或 .csv），可另附事件文件，选择评估日，下载结果工作簿。",
        "enterprises_file": "企业名单（.xlsx 或 .csv）", "events_file": "事件文件（可选）", "token": "访问口令",
        "upload": "上传并评估", "lang": "结果语言", "bureau_off": "本服务器未开启批量上传（启动时未提供 --token-file）。",
        "rules_intro": "规则库中的每条规则，含有效期、金额和出处。", "window": "有效期", "kind": "类别", "source": "依据",
        "status": "状态", "in_force": "有效", "not_yet_in_force": "尚未生效", "expired": "已失效",
    },
    "en": {
        "site": "Huiqi policy self-check", "switch": "中文", "selfcheck": "Self-check", "bureau": "Bureau upload",
        "rules_page": "Rule base", "api": "API docs", "intro": "Enter the enterprise and its IP events to see, as of a date, the "
        "benefits it can receive, the requirements it must meet, and the policy clause behind each answer.",
        "profile": "Enterprise", "events": "IP events", "add_event": "Add event", "remove": "Remove", "event_type": "Event type",
        "choose": "choose", "unknown": "not known", "yes": "yes", "no": "no", "as_of": "Evaluation date", "submit": "Evaluate",
        "as_of_hint": "Policies in force on this date apply; the page fills in today's date on your computer, which you may change.",
        "size_hint": "If you do not know the size class, give the sector, employees, revenue and assets and it is derived "
        "under 工信部联企业〔2011〕300号.",
        "errors": "Please correct the fields marked below", "back": "Change the inputs", "print": "Print",
        "support": "Support measures (no stated amount)", "clause": "Clause", "reason": "Reason", "would": "What would make you eligible",
        "result_for": "Result", "notes": "Notes", "required": "required",
        "upload_intro": "Upload a list of enterprises (.xlsx with sheets 企业 and 事件, or .csv), optionally an events file, "
        "choose the evaluation date and download the results workbook.",
        "enterprises_file": "Enterprises (.xlsx or .csv)", "events_file": "Events file (optional)", "token": "Access token",
        "upload": "Upload and evaluate", "lang": "Language of the results", "bureau_off": "Bureau uploads are switched off "
        "on this server (it was started without --token-file).",
        "rules_intro": "Every rule of the rule base, with its window, amount and source.", "window": "Window", "kind": "Kind",
        "source": "Source", "status": "Status", "in_force": "in force", "not_yet_in_force": "not yet in force",
        "expired": "expired",
    },
}


def words(lang: str) -> dict[str, str]:
    return {**RESULT_WORDS[lang], **PAGE_WORDS[lang]}
