"""The synthetic world's own vocabulary: industries, skills, certificates, job types, courses.

This list is deliberately independent of the project's skills taxonomy: the
matching code is evaluated on how well it maps *these* surface forms (formal,
colloquial, English, typos, noise words) back to the latent ids below, so the
world must not borrow the taxonomy it is meant to test.

Everything here is plain data; the generator turns keys into integer ids in
declaration order, so adding an entry at the end keeps earlier ids stable.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

# --------------------------------------------------------------------------- industries

#: Calibration groups of the NBS survey's industry table, in report order.
INDUSTRY_GROUPS: tuple[str, ...] = (
    "manufacturing",
    "construction",
    "wholesale_retail",
    "transport",
    "accommodation_catering",
    "resident_services",
    "other",
)


@dataclass(frozen=True)
class Industry:
    """An industry as written in employers.csv (NBS GB/T 4754 section name)."""

    key: str
    label: str  # Chinese section name written to employers.csv
    group: str  # one of INDUSTRY_GROUPS


INDUSTRIES: tuple[Industry, ...] = (
    Industry("manufacturing", "制造业", "manufacturing"),
    Industry("construction", "建筑业", "construction"),
    Industry("wholesale_retail", "批发和零售业", "wholesale_retail"),
    Industry("transport", "交通运输、仓储和邮政业", "transport"),
    Industry("accommodation_catering", "住宿和餐饮业", "accommodation_catering"),
    Industry("resident_services", "居民服务、修理和其他服务业", "resident_services"),
    Industry("agriculture", "农、林、牧、渔业", "other"),
    Industry("business_services", "租赁和商务服务业", "other"),
    Industry("real_estate", "房地产业", "other"),
    Industry("health_social", "卫生和社会工作", "other"),
    Industry("it_services", "信息传输、软件和信息技术服务业", "other"),
    Industry("public_facilities", "水利、环境和公共设施管理业", "other"),
    Industry("public_admin", "公共管理、社会保障和社会组织", "other"),
)

# --------------------------------------------------------------------------- skills


@dataclass(frozen=True)
class Skill:
    """A latent skill and the ways people write it (canonical form first)."""

    key: str
    zh: tuple[str, ...]
    en: tuple[str, ...] = ()
    typos: tuple[str, ...] = ()


def _s(key: str, zh: str, en: str = "", typos: str = "") -> Skill:
    split = lambda text: tuple(t for t in text.split("|") if t)  # noqa: E731
    return Skill(key, split(zh), split(en), split(typos))


SKILLS: tuple[Skill, ...] = (
    # construction
    _s("welding", "电焊|焊接|电焊作业|烧焊|手工电弧焊", "welding|arc welding", "电悍|点焊工艺"),
    _s("co2_welding", "二保焊|二氧化碳保护焊|CO2焊|气保焊", "MIG welding|CO2 welding", "二宝焊"),
    _s("argon_welding", "氩弧焊|氩弧焊接|TIG焊", "TIG welding", "亚弧焊"),
    _s("gas_cutting", "气割|火焰切割|氧气切割", "gas cutting", "汽割"),
    _s("blueprint", "看图纸|识图|会看图|识读图纸|看懂图纸", "blueprint reading", "看图址"),
    _s("rebar_tying", "钢筋绑扎|绑钢筋|扎钢筋", "rebar tying", "钢筋帮扎"),
    _s("rebar_cutting", "钢筋下料|钢筋加工|钢筋弯曲", "rebar cutting"),
    _s("formwork", "支模|模板安装|支模板|木工支模", "formwork", "支摸"),
    _s("carpentry", "木工|木工活|木作|做木工", "carpentry"),
    _s("bricklaying", "砌砖|砌墙|砌筑", "bricklaying", "彻砖"),
    _s("tiling", "贴瓷砖|贴砖|铺地砖", "tiling", "贴瓷专"),
    _s("plastering", "抹灰|粉刷|批荡", "plastering"),
    _s("scaffolding", "搭脚手架|脚手架搭设|搭架子", "scaffolding", "搭脚手驾"),
    _s("work_at_height", "高空作业|高处作业|登高作业", "work at height"),
    _s("plumbing", "水管安装|水暖安装|管道安装", "plumbing"),
    _s("wiring", "布线|电路安装|强电布线|穿线", "electrical wiring"),
    _s("tower_crane_op", "塔吊操作|开塔吊|塔式起重机操作", "tower crane operation", "塔掉操作"),
    _s("signalling", "信号指挥|塔吊指挥|司索", "rigging signals"),
    _s("excavator_op", "开挖掘机|挖掘机操作|开挖机|勾机操作", "excavator operation", "挖崛机"),
    _s("loader_op", "开铲车|装载机操作", "wheel loader"),
    _s("painting", "刷漆|油漆|乳胶漆施工|墙面涂刷", "painting"),
    _s("putty", "刮腻子|批腻子|墙面打磨", "putty"),
    _s("waterproofing", "防水施工|做防水|卷材防水", "waterproofing"),
    _s("steel_erection", "钢结构安装|钢构安装", "steel erection"),
    _s("concrete", "混凝土浇筑|打灰|浇筑混凝土", "concreting"),
    _s("manual_handling", "搬运|装卸|搬货|出力气活", "manual handling"),
    # manufacturing
    _s("assembly_line", "流水线作业|流水线|流水线操作", "assembly line work"),
    _s("assembly", "装配|组装|产品组装|装配作业", "assembly"),
    _s("quality_inspection", "质检|质量检验|品质检验|来料检验|QC", "quality inspection", "质捡"),
    _s("measuring_tools", "卡尺测量|会用卡尺|千分尺|量具使用", "calipers"),
    _s("injection_molding", "注塑机操作|注塑|啤机操作", "injection moulding"),
    _s("mold_setup", "调机|上下模|换模|模具调试", "mould setup"),
    _s("cnc_operation", "数控车床|CNC操作|数控机床操作|加工中心操作", "CNC operation", "CNC操做"),
    _s("cnc_programming", "数控编程|CNC编程|UG编程", "CNC programming"),
    _s("lathe", "车床操作|普车|开车床", "lathe"),
    _s("fitter", "钳工|划线钻孔|钳工装配", "fitting"),
    _s("forklift_driving", "开叉车|叉车驾驶|叉车|会开叉车", "forklift", "叉车驾使"),
    _s("packing", "包装|打包|装箱|封箱", "packing"),
    _s("soldering", "焊锡|烙铁焊接|电烙铁", "soldering"),
    _s("smt", "SMT|贴片|贴片机操作", "SMT"),
    _s("through_hole", "插件|电子插件|手插件", "component insertion"),
    _s("sewing", "缝纫|平车|车位|缝纫机操作|车衣", "sewing", "缝刃"),
    _s("garment_cutting", "裁剪|裁床", "garment cutting"),
    _s("ironing", "整烫|熨烫", "pressing"),
    _s("grinding", "打磨|抛光|打磨抛光", "grinding"),
    _s("spray_coating", "喷涂|喷粉|静电喷涂|喷涂作业", "spray coating"),
    _s("food_processing", "食品加工|食品生产|面包生产", "food processing"),
    _s("electrical_maintenance", "电气维修|设备电气维修|电工维修|机电维修", "electrical maintenance"),
    _s("low_voltage_work", "低压电工|低压配电|配电柜安装", "low-voltage electrical work"),
    _s("machine_maintenance", "设备维修|机修|设备保养|机器维修", "machine maintenance"),
    _s("production_mgmt", "生产管理|排产|班组管理|带班|5S管理", "production supervision"),
    # transport, storage and post
    _s("parcel_delivery", "派件|送快递|快递派送|收派件", "parcel delivery"),
    _s("parcel_pickup", "揽件|收件|上门取件", "parcel pickup"),
    _s("sorting", "分拣|包裹分拣|扫描分拣|货物分拣", "sorting", "分捡"),
    _s("e_bike", "骑电动车|会骑电瓶车|骑电动车送货", "e-bike riding"),
    _s("route_knowledge", "熟悉路线|熟悉本地道路|认路", "local route knowledge"),
    _s("phone_app", "使用手机APP|会用智能手机|手机操作", "smartphone apps"),
    _s("truck_driving", "驾驶货车|开大车|开货车|货运驾驶", "truck driving", "架驶货车"),
    _s("car_driving", "驾驶小车|开车|驾驶技术好|开小车", "driving"),
    _s("warehouse_mgmt", "仓库管理|仓储管理|库管", "warehouse management"),
    _s("inbound_outbound", "出入库|收发货|出库入库", "goods receipt and issue"),
    _s("stocktaking", "盘点|库存盘点", "stocktaking"),
    _s("computer_basic", "电脑操作|会用电脑|办公软件|Excel", "computer skills", "电恼操作"),
    # wholesale and retail, e-commerce
    _s("customer_service", "客户服务|客服|售后服务|售后", "customer service"),
    _s("typing", "打字|打字快|五笔", "typing"),
    _s("cashier", "收银|收银机操作|会收银", "cashier"),
    _s("sales", "销售|推销|卖货|导购", "sales"),
    _s("communication", "沟通能力|沟通|善于沟通|表达能力好", "communication"),
    _s("merchandising", "理货|商品陈列|上货", "merchandising"),
    _s("livestream_ops", "直播场控|直播运营|直播间运营", "live-stream operations"),
    _s("video_editing", "剪辑视频|视频剪辑|剪映", "video editing"),
    _s("livestream_selling", "直播带货|带货|直播", "live selling"),
    _s("ecommerce_ops", "网店运营|淘宝运营|电商运营|拼多多运营", "e-commerce operations"),
    # accommodation and catering
    _s("stir_fry", "炒菜|烹饪|做菜|掌勺|炒锅", "cooking", "炒才"),
    _s("chinese_cuisine", "中餐|川菜|家常菜|湘菜", "Chinese cuisine"),
    _s("food_prep", "切配|配菜|切菜|打荷", "food prep"),
    _s("dishwashing", "洗碗|洗碗消毒|餐具清洗", "dishwashing"),
    _s("table_service", "点餐|传菜|餐厅服务|上菜", "table service"),
    _s("pastry", "面点|做面点|包子馒头|揉面|白案", "pastry"),
    _s("baking", "烘焙|做蛋糕|西点", "baking"),
    _s("beverage", "制作饮品|奶茶制作|调饮|咖啡制作", "drinks making"),
    _s("room_cleaning", "客房清洁|做房|铺床", "hotel housekeeping"),
    # resident services and repair
    _s("home_cooking", "做饭|家常饭菜|做家务饭", "home cooking"),
    _s("house_cleaning", "打扫卫生|保洁|清洁|家庭保洁", "cleaning", "打扫卫声"),
    _s("elder_care", "照顾老人|老人护理|陪护老人|养老护理", "elderly care"),
    _s("infant_care", "婴儿护理|带孩子|带宝宝|婴幼儿照护", "infant care"),
    _s("complementary_food", "辅食制作|做辅食", "baby food"),
    _s("postpartum_care", "产妇护理|月子护理|产后护理", "postpartum care"),
    _s("newborn_care", "新生儿护理|新生儿洗澡|新生儿抚触", "newborn care"),
    _s("lactation", "催乳|通乳|开奶", "lactation support"),
    _s("auto_repair", "汽车维修|修车|汽修|汽车保养", "car repair", "汽车维休"),
    _s("bodywork", "钣金|钣金喷漆|汽车钣金", "panel beating"),
    _s("tyre", "补胎|换轮胎|轮胎更换", "tyre fitting"),
    _s("appliance_repair", "家电维修|修家电|冰箱洗衣机维修", "appliance repair"),
    _s("ac_install", "空调安装|装空调|空调维修|空调移机", "air-conditioner installation"),
    _s("phone_repair", "手机维修|修手机|手机换屏", "phone repair"),
    _s("haircut", "剪发|理发|剪头发", "haircutting"),
    _s("hair_colouring", "烫染|烫发|染发", "perming and colouring"),
    _s("nail", "美甲|做指甲", "manicure"),
    _s("facial", "美容|皮肤护理|面部护理", "beauty care"),
    _s("massage", "推拿|按摩|足疗|足浴|中医推拿", "massage"),
    # other industries
    _s("patrol", "巡逻|安保巡逻|站岗|门岗", "patrol"),
    _s("cctv", "监控|看监控|监控室值班", "CCTV monitoring"),
    _s("fire_safety", "消防|消防设施操作|消防安全", "fire safety"),
    _s("property_repair", "物业维修|水电维修|维修水电", "property maintenance"),
    _s("patient_care", "病人护理|医院陪护|陪护病人", "patient care"),
    _s("personal_care", "喂饭翻身|协助翻身|生活照料", "personal care"),
    _s("planting", "种植|种地|种菜|蔬菜种植", "crop planting"),
    _s("fertilising", "施肥打药|打药|施肥", "fertilising and spraying"),
    _s("farm_machinery", "开拖拉机|农机驾驶|农机操作|开收割机", "farm machinery"),
    _s("fruit_picking", "采摘|摘水果|采茶|摘棉花", "fruit picking"),
    _s("grading", "分级挑选|水果分拣|挑拣", "produce grading"),
    _s("livestock_feeding", "喂养|养猪|养鸡|饲养|喂料", "livestock feeding"),
    _s("animal_health", "防疫|打疫苗|消毒防疫", "animal health"),
    _s("greenhouse", "大棚管理|大棚种植|温室管理", "greenhouse growing"),
    _s("pruning", "修剪|绿化修剪|剪枝", "pruning"),
    _s("landscaping", "绿化养护|园林绿化|浇水除草", "landscaping"),
    _s("street_sweeping", "道路清扫|扫马路|垃圾清运", "street cleaning"),
    _s("waste_sorting", "垃圾分类|垃圾分拣", "waste sorting"),
    _s("data_labeling", "数据标注|图片标注|语音标注", "data labelling"),
)

# --------------------------------------------------------------------------- certificates


@dataclass(frozen=True)
class Certificate:
    """A latent certificate and how it is written (canonical form first)."""

    key: str
    kind: str  # special_operation | special_equipment | health | driving | permit | skill_level
    forms: tuple[str, ...]
    en: tuple[str, ...] = ()


def _c(key: str, kind: str, forms: str, en: str = "") -> Certificate:
    return Certificate(key, kind, tuple(forms.split("|")), tuple(t for t in en.split("|") if t))


CERTIFICATES: tuple[Certificate, ...] = (
    # legally required special-operation / special-equipment certificates
    _c("weld", "special_operation", "焊工证|特种作业操作证（焊接与热切割）|焊接与热切割作业证|电焊证|焊工上岗证", "welding certificate"),
    _c("low_voltage", "special_operation", "低压电工证|低压电工作业证|特种作业操作证（低压电工作业）|电工证|电工上岗证", "electrician licence"),
    _c("height", "special_operation", "高处作业证|登高证|特种作业操作证（高处作业）|高空作业证|登高架设作业证"),
    _c("refrigeration", "special_operation", "制冷与空调作业证|空调证|特种作业操作证（制冷与空调作业）"),
    _c("forklift", "special_equipment", "叉车证（N1）|叉车证|N1证|特种设备作业人员证（N1）|叉车操作证", "forklift licence"),
    _c("tower_crane", "special_equipment", "塔吊证|塔式起重机司机证|建筑施工特种作业操作资格证（塔式起重机司机）|塔吊司机证"),
    _c("excavator", "permit", "挖掘机操作证|挖机证|挖掘机证"),
    _c("health", "health", "健康证|食品从业人员健康证明|健康证明", "health certificate"),
    _c("licence_c1", "driving", "C1驾照|驾驶证C1|C1驾驶证|小车驾照", "driving licence C1"),
    _c("licence_b2", "driving", "B2驾照|B2驾驶证|驾驶证B2"),
    _c("licence_a2", "driving", "A2驾照|A2驾驶证|牵引车驾照"),
    _c("ride_hailing", "permit", "网约车驾驶员证|网约车资格证|网络预约出租汽车驾驶员证"),
    _c("security", "permit", "保安员证|保安证|保安员资格证"),
    # skill-level and vocational certificates awarded by courses
    _c("welder_level", "skill_level", "焊工（初级工）|焊工职业技能等级证书（中级）|焊工中级工证"),
    _c("electrician_level", "skill_level", "电工（中级工）|电工职业技能等级证书|电工初级工证"),
    _c("construction_level", "skill_level", "砌筑工（初级工）|钢筋工（中级工）|建筑工种职业技能等级证书"),
    _c("cnc_level", "skill_level", "数控车工（中级工）|数控车床操作证|车工职业技能等级证书"),
    _c("sewing_level", "skill_level", "缝纫工（初级工）|服装缝纫工证"),
    _c("qc_level", "skill_level", "质检员证|质量检验员（初级工）"),
    _c("warehouse_level", "skill_level", "仓储管理员（初级工）|物流员证|仓管员证"),
    _c("ecommerce_level", "skill_level", "电子商务师（初级）|电商师证|互联网营销师（初级工）"),
    _c("chef_level", "skill_level", "中式烹调师（中级工）|厨师证|中式烹调师证"),
    _c("pastry_level", "skill_level", "中式面点师证|面点师（初级工）"),
    _c("housekeeping_level", "skill_level", "家政服务员证|家政服务员（初级工）"),
    _c("nanny_level", "skill_level", "育婴员证|育婴师证|育婴员（四级）"),
    _c("maternity_level", "skill_level", "母婴护理证|月嫂证|母婴护理员证"),
    _c("elderly_level", "skill_level", "养老护理员证|养老护理员职业技能等级证书|护理员证"),
    _c("auto_level", "skill_level", "汽车维修工（中级工）|汽修工证"),
    _c("appliance_level", "skill_level", "家用电子产品维修工证|家电维修工（初级工）"),
    _c("hair_level", "skill_level", "美发师证|美发师（初级工）"),
    _c("beauty_level", "skill_level", "美容师证|美容师（初级工）"),
    _c("massage_level", "skill_level", "保健按摩师证|保健按摩师（中级工）"),
    _c("farm_level", "skill_level", "高素质农民培训证书|农业技术员证|农艺工（初级工）"),
    _c("livestock_level", "skill_level", "家畜饲养员证|动物疫病防治员证"),
    _c("green_level", "skill_level", "绿化工证|园林绿化工（初级工）"),
    _c("data_level", "skill_level", "人工智能训练师（五级）|数据标注员证"),
    _c("phone_level", "skill_level", "手机维修工证|电子产品维修工（初级工）"),
    _c("platform_training", "skill_level", "新就业形态岗前培训合格证|骑手安全培训证明|外卖骑手岗前培训证"),
    _c("hospitality_level", "skill_level", "餐厅服务员（初级工）|客房服务员证|酒店服务员证"),
    _c("apprentice", "skill_level", "企业新型学徒制结业证书|岗前培训合格证|装配工（初级工）"),
    _c("electronics_level", "skill_level", "电子设备装接工（初级工）|电子装配工证"),
    _c("retail_level", "skill_level", "营销员（初级工）|收银员证|商品营业员证"),
)

# --------------------------------------------------------------------------- job types


@dataclass(frozen=True)
class JobType:
    """One kind of job: how it is posted, what it needs, who does it.

    ``certs`` lists (certificate key, probability that a posted job requires
    it); ``hold`` is the probability that a worker whose trade this is holds
    the first one at registration. ``age`` is the usual posted age range and
    ``age_posted`` the probability that a posting states an upper limit.
    ``local`` is the affinity for work in the home county (0..1).
    """

    key: str
    name: str
    industry: str
    family: str
    weight: float
    wage: int
    titles: tuple[str, ...]
    skills: tuple[str, ...]
    core: int = 1
    certs: tuple[tuple[str, float], ...] = ()
    hold: float = 0.5
    age: tuple[int, int] = (18, 55)
    age_posted: float = 0.6
    male: float = 0.6
    age_profile: str = "prime"
    edu: str = "low"
    housing: float = 0.5
    insurance: float = 0.5
    etype: tuple[tuple[str, float], ...] = (("full_time", 1.0),)
    openings: float = 2.0
    local: float = 0.5
    education_min: str = ""


def _j(key: str, name: str, industry: str, family: str, weight: float, wage: int, titles: str,
       skills: str, **kw: object) -> JobType:
    return JobType(key, name, industry, family, weight, wage, tuple(titles.split("|")),
                   tuple(skills.split("|")), **kw)  # type: ignore[arg-type]


JOB_TYPES: tuple[JobType, ...] = (
    # ---- construction
    _j("welder", "电焊工", "construction", "welding", 8, 7300,
       "电焊工|焊工|电焊工（二保焊）|氩弧焊工|二保焊工|烧焊师傅|Welder|电悍工",
       "welding|co2_welding|argon_welding|gas_cutting|blueprint", core=2,
       certs=(("weld", 0.9), ("welder_level", 0.15)), hold=0.6, age=(20, 55), male=0.97,
       housing=0.7, insurance=0.45, openings=3, local=0.35),
    _j("rebar_worker", "钢筋工", "construction", "construction_trades", 12, 7200,
       "钢筋工|钢筋工（点工）|扎钢筋师傅|钢筋班组|Rebar worker|钢筋功",
       "rebar_tying|rebar_cutting|blueprint", core=1, certs=(("construction_level", 0.05),), hold=0.1,
       age=(20, 58), male=0.97, age_profile="old", housing=0.8, insurance=0.3, openings=6, local=0.5),
    _j("carpenter", "木工", "construction", "construction_trades", 12, 7600,
       "木工|支模木工|木工师傅|建筑木工|Carpenter|模板工",
       "formwork|carpentry|blueprint", core=1, certs=(("construction_level", 0.05),), hold=0.1,
       age=(20, 58), male=0.97, age_profile="old", housing=0.8, insurance=0.3, openings=5, local=0.5),
    _j("mason", "瓦工", "construction", "construction_trades", 12, 7400,
       "瓦工|泥瓦工|瓦工（贴砖）|砌筑工|泥工师傅|Bricklayer|瓦功",
       "bricklaying|tiling|plastering", core=1, certs=(("construction_level", 0.05),), hold=0.1,
       age=(20, 60), male=0.95, age_profile="old", housing=0.7, insurance=0.25, openings=4, local=0.6),
    _j("scaffolder", "架子工", "construction", "work_at_height", 6, 7600,
       "架子工|外架工|脚手架工|架子工（持证）|Scaffolder",
       "scaffolding|work_at_height", core=1, certs=(("height", 0.9),), hold=0.55, age=(20, 55),
       male=0.99, housing=0.8, insurance=0.35, openings=5, local=0.4),
    _j("plumber_electrician", "水电工", "construction", "electrical", 10, 7000,
       "水电工|水电安装工|装修水电工|水电师傅|Plumber-electrician|水电功",
       "plumbing|wiring|blueprint", core=2, certs=(("low_voltage", 0.7), ("electrician_level", 0.1)),
       hold=0.5, age=(20, 55), male=0.97, housing=0.6, insurance=0.35, openings=2, local=0.55),
    _j("tower_crane_operator", "塔吊司机", "construction", "crane", 2, 8400,
       "塔吊司机|塔吊司机（持证）|塔式起重机司机|塔吊师傅|Tower crane operator|塔掉司机",
       "tower_crane_op|signalling", core=1, certs=(("tower_crane", 0.97),), hold=0.7,
       age=(22, 55), male=0.85, housing=0.8, insurance=0.5, openings=1, local=0.35),
    _j("excavator_operator", "挖掘机司机", "construction", "excavator", 3, 8200,
       "挖掘机司机|挖机司机|勾机师傅|挖掘机操作手|Excavator operator",
       "excavator_op|loader_op", core=1, certs=(("excavator", 0.55),), hold=0.5, age=(20, 55),
       male=0.99, housing=0.8, insurance=0.35, openings=1, local=0.5),
    _j("painter", "油漆工", "construction", "construction_trades", 6, 6800,
       "油漆工|油漆工（乳胶漆）|刷漆师傅|涂装工|Painter|油七工",
       "painting|putty", core=1, age=(20, 60), male=0.85, age_profile="old", housing=0.5,
       insurance=0.25, openings=2, local=0.6),
    _j("waterproofer", "防水工", "construction", "construction_trades", 3, 6800,
       "防水工|防水施工员|屋面防水工|Waterproofer", "waterproofing|manual_handling",
       age=(20, 58), male=0.92, housing=0.6, insurance=0.25, openings=2, local=0.55),
    _j("steel_erector", "钢结构安装工", "construction", "welding", 4, 7300,
       "钢结构安装工|钢构工|钢结构工人|Steel erector", "steel_erection|work_at_height|welding", core=1,
       certs=(("height", 0.7), ("weld", 0.4)), hold=0.45, age=(20, 55), male=0.99, housing=0.8,
       insurance=0.4, openings=4, local=0.35),
    _j("concrete_worker", "混凝土工", "construction", "construction_trades", 4, 6700,
       "混凝土工|打灰工|砼工|Concrete worker", "concrete|manual_handling", age=(20, 60), male=0.97,
       age_profile="old", housing=0.7, insurance=0.25, openings=5, local=0.55),
    _j("site_labourer", "建筑小工", "construction", "construction_trades", 18, 5900,
       "建筑小工|小工|杂工|工地小工|工地杂工 日结|普通劳务工|Site labourer",
       "manual_handling|concrete|bricklaying", age=(18, 62), male=0.85, age_profile="old",
       edu="low", housing=0.6, insurance=0.15, openings=8, local=0.7),
    # ---- manufacturing
    _j("general_worker", "普工", "manufacturing", "assembly", 30, 5200,
       "普工|操作工|普工/操作工|流水线普工|长白班普工|General worker|普 工",
       "assembly_line|packing|assembly", age=(18, 45), age_posted=0.85, male=0.55,
       age_profile="young", housing=0.85, insurance=0.7, openings=20, local=0.3),
    _j("assembler", "装配工", "manufacturing", "assembly", 10, 5500,
       "装配工|组装工|摄像头镜片组装|机械装配工|Assembler|装配功",
       "assembly|assembly_line|blueprint", age=(18, 45), age_posted=0.8, male=0.6,
       age_profile="young", housing=0.8, insurance=0.7, openings=10, local=0.3),
    _j("electronics_operator", "电子厂操作工", "manufacturing", "electronics", 12, 5300,
       "电子厂操作工|电子厂普工|SMT操作员|插件工|手机厂普工|Electronics operator",
       "through_hole|smt|soldering|assembly_line", age=(18, 40), age_posted=0.9, male=0.45,
       age_profile="young", edu="mid", housing=0.9, insurance=0.75, openings=25, local=0.2),
    _j("quality_inspector", "质检员", "manufacturing", "qc", 6, 5600,
       "质检员|品检员|QC质检|检验员|Quality inspector|质捡员",
       "quality_inspection|measuring_tools|computer_basic", certs=(("qc_level", 0.15),), hold=0.2,
       age=(18, 40), age_posted=0.8, male=0.4, age_profile="young", edu="mid", housing=0.8,
       insurance=0.75, openings=3, local=0.35, education_min="junior_high"),
    _j("injection_operator", "注塑工", "manufacturing", "assembly", 5, 5700,
       "注塑工|注塑机操作工|啤机工|注塑技术员|Injection moulding operator",
       "injection_molding|mold_setup", age=(18, 45), age_posted=0.8, male=0.7, housing=0.85,
       insurance=0.7, openings=5, local=0.3),
    _j("cnc_operator", "CNC操作工", "manufacturing", "cnc", 6, 6800,
       "CNC操作工|数控车床操作工|CNC学徒|加工中心操作员|CNC operator|cnc操做工",
       "cnc_operation|measuring_tools|blueprint|cnc_programming", core=1,
       certs=(("cnc_level", 0.2),), hold=0.25, age=(18, 45), age_posted=0.75, male=0.85,
       age_profile="young", edu="mid", housing=0.8, insurance=0.7, openings=4, local=0.25),
    _j("lathe_operator", "车床工", "manufacturing", "cnc", 3, 6300,
       "车床工|普车工|车工（机加工）|Lathe operator", "lathe|measuring_tools|blueprint",
       certs=(("cnc_level", 0.1),), hold=0.2, age=(20, 50), male=0.92, housing=0.7, insurance=0.6,
       openings=2, local=0.35),
    _j("fitter", "钳工", "manufacturing", "cnc", 3, 6400,
       "钳工|装配钳工|机修钳工|Fitter", "fitter|assembly|blueprint", age=(20, 50), male=0.95,
       housing=0.7, insurance=0.65, openings=2, local=0.35),
    _j("factory_electrician", "电工", "manufacturing", "electrical", 4, 6800,
       "电工|维修电工|设备电工|电工（持证）|Electrician|电功",
       "electrical_maintenance|low_voltage_work|wiring", core=2,
       certs=(("low_voltage", 0.95), ("electrician_level", 0.2)), hold=0.75, age=(20, 50),
       male=0.97, edu="mid", housing=0.7, insurance=0.75, openings=1, local=0.4),
    _j("maintenance_mechanic", "机修工", "manufacturing", "cnc", 3, 6800,
       "机修工|设备维修工|机修师傅|Maintenance mechanic",
       "machine_maintenance|electrical_maintenance|fitter", age=(20, 50), male=0.95, edu="mid",
       housing=0.7, insurance=0.7, openings=1, local=0.4),
    _j("grinder", "打磨工", "manufacturing", "assembly", 3, 6000,
       "打磨工|抛光工|打磨抛光工|Grinder", "grinding|manual_handling", age=(18, 50), male=0.85,
       housing=0.8, insurance=0.5, openings=4, local=0.35),
    _j("spray_painter", "喷涂工", "manufacturing", "assembly", 2, 6200,
       "喷涂工|喷漆工|喷粉工|Spray painter", "spray_coating|grinding", age=(18, 50), male=0.85,
       housing=0.8, insurance=0.55, openings=3, local=0.35),
    _j("sewing_operator", "缝纫工", "manufacturing", "sewing", 8, 6000,
       "缝纫工|车位|平车工|服装厂车工|熟手车位|Sewing machinist|逢纫工",
       "sewing|garment_cutting|ironing", certs=(("sewing_level", 0.05),), hold=0.1, age=(18, 50),
       male=0.2, age_profile="prime", housing=0.85, insurance=0.5, openings=10, local=0.35),
    _j("packer", "包装工", "manufacturing", "assembly", 6, 4800,
       "包装工|打包员|包装普工|包装工 日结|Packer", "packing|manual_handling", age=(18, 55),
       male=0.4, age_profile="broad", housing=0.7, insurance=0.5, openings=10, local=0.5),
    _j("food_factory_worker", "食品厂操作工", "manufacturing", "assembly", 5, 4900,
       "食品厂操作工|食品厂普工|食品包装工|Food factory worker",
       "food_processing|packing|assembly_line", certs=(("health", 0.9),), hold=0.75, age=(18, 50),
       male=0.45, age_profile="broad", housing=0.8, insurance=0.6, openings=10, local=0.45),
    _j("forklift_driver", "叉车司机", "manufacturing", "forklift", 4, 6000,
       "叉车司机|叉车工|叉车司机（持证）|Forklift driver|叉车师傅",
       "forklift_driving|inbound_outbound|manual_handling", certs=(("forklift", 0.92),), hold=0.65,
       age=(20, 50), male=0.97, housing=0.75, insurance=0.65, openings=2, local=0.35),
    _j("line_leader", "线长", "manufacturing", "qc", 2, 7000,
       "线长|拉长|班组长|生产组长|Line leader", "production_mgmt|assembly_line|computer_basic",
       core=1, age=(22, 45), male=0.6, edu="mid", housing=0.8, insurance=0.8, openings=1, local=0.3,
       education_min="junior_high"),
    # ---- transport, storage and post
    _j("courier", "快递员", "transport", "logistics", 22, 6600,
       "快递员|快递派送员|快递小哥|派件员|Courier|快第员",
       "parcel_delivery|parcel_pickup|e_bike|route_knowledge", core=1, age=(18, 50),
       age_posted=0.7, male=0.9, age_profile="young", housing=0.5, insurance=0.5, openings=3,
       local=0.35),
    _j("sorter", "分拣员", "transport", "logistics", 15, 5200,
       "分拣员|快递分拣员|仓库分拣|分拣员 日结|Sorter|分捡员",
       "sorting|manual_handling|packing", age=(18, 50), male=0.6, age_profile="broad",
       housing=0.6, insurance=0.5, openings=12, local=0.4),
    _j("truck_driver", "货车司机", "transport", "driving", 20, 8200,
       "货车司机|大车司机|重型货车司机（A2）|B2货车司机|Truck driver|货车司饥",
       "truck_driving|route_knowledge|inbound_outbound", core=1,
       certs=(("licence_b2", 0.7), ("licence_a2", 0.3)), hold=0.8, age=(23, 55), male=0.99,
       housing=0.4, insurance=0.5, openings=2, local=0.45),
    _j("warehouse_keeper", "仓管员", "transport", "logistics", 10, 5400,
       "仓管员|仓库管理员|库管员|仓管|Warehouse keeper",
       "warehouse_mgmt|inbound_outbound|stocktaking|computer_basic|forklift_driving", core=2,
       certs=(("warehouse_level", 0.1), ("forklift", 0.15)), hold=0.2, age=(20, 45), male=0.6,
       edu="mid", housing=0.6, insurance=0.7, openings=1, local=0.4, education_min="junior_high"),
    _j("delivery_rider", "外卖骑手", "transport", "platform", 15, 6800,
       "外卖骑手|外卖员|骑手 日结|美团骑手|外卖骑手 日结|Delivery rider|外买骑手",
       "e_bike|route_knowledge|phone_app", core=1, age=(18, 50), age_posted=0.6, male=0.92,
       age_profile="young", housing=0.15, insurance=0.1,
       etype=(("platform", 0.85), ("part_time", 0.15)), openings=10, local=0.4),
    _j("ride_hailing_driver", "网约车司机", "transport", "ride_hailing", 10, 6800,
       "网约车司机|滴滴司机|网约车司机（可租车）|Ride-hailing driver|网约车司饥",
       "car_driving|route_knowledge|phone_app", core=1,
       certs=(("licence_c1", 0.98), ("ride_hailing", 0.6)), hold=0.6, age=(22, 60), male=0.95,
       housing=0.05, insurance=0.1, etype=(("platform", 0.9), ("part_time", 0.1)), openings=5,
       local=0.45),
    _j("errand_runner", "跑腿", "transport", "platform", 3, 5600,
       "跑腿|跑腿骑手|同城跑腿员|闪送员|Errand runner",
       "e_bike|route_knowledge|phone_app", core=1, age=(18, 55), male=0.8, housing=0.05,
       insurance=0.05, etype=(("platform", 0.9), ("part_time", 0.1)), openings=5, local=0.45),
    _j("loader", "装卸工", "transport", "logistics", 5, 5800,
       "装卸工|搬运工|装卸搬运工|物流装卸工 日结|Loader",
       "manual_handling|sorting", age=(18, 55), male=0.97, age_profile="broad", housing=0.6,
       insurance=0.3, openings=6, local=0.5),
    # ---- wholesale and retail, e-commerce and live streaming
    _j("shop_assistant", "导购", "wholesale_retail", "retail", 30, 4800,
       "导购|营业员|店员|门店销售|导购员（商场）|Shop assistant|到购",
       "sales|communication|cashier", core=1, age=(18, 45), age_posted=0.7, male=0.3,
       age_profile="young", edu="mid", housing=0.3, insurance=0.55, openings=2, local=0.6),
    _j("cashier", "收银员", "wholesale_retail", "retail", 15, 4100,
       "收银员|超市收银员|收银员 兼职|Cashier|收营员",
       "cashier|communication|computer_basic", core=1, age=(18, 45), age_posted=0.7, male=0.15,
       age_profile="broad", housing=0.2, insurance=0.55,
       etype=(("full_time", 0.8), ("part_time", 0.2)), openings=2, local=0.7),
    _j("stock_clerk", "理货员", "wholesale_retail", "retail", 15, 4300,
       "理货员|超市理货员|商品陈列员|Stock clerk", "merchandising|stocktaking|manual_handling",
       age=(18, 55), male=0.45, age_profile="broad", housing=0.2, insurance=0.5, openings=3,
       local=0.7),
    _j("ecommerce_cs", "电商客服", "wholesale_retail", "ecommerce", 15, 4800,
       "电商客服|淘宝客服|在线客服|售后客服|E-commerce customer service|电商客付",
       "customer_service|typing|computer_basic|ecommerce_ops", core=2,
       certs=(("ecommerce_level", 0.1),), hold=0.15, age=(18, 35), age_posted=0.8, male=0.3,
       age_profile="young", edu="high", housing=0.5, insurance=0.6, openings=4, local=0.45,
       education_min="junior_high"),
    _j("livestream_assistant", "直播助理", "wholesale_retail", "ecommerce", 8, 5400,
       "直播助理|直播场控|直播运营助理|Live-stream assistant",
       "livestream_ops|video_editing|computer_basic", core=1, certs=(("ecommerce_level", 0.1),),
       hold=0.15, age=(18, 35), age_posted=0.8, male=0.4, age_profile="young", edu="high",
       housing=0.4, insurance=0.5, openings=2, local=0.4, education_min="junior_high"),
    _j("streamer", "主播", "wholesale_retail", "ecommerce", 7, 7500,
       "主播|带货主播|直播带货主播|新手主播 可培训|Live-streamer|主拨",
       "livestream_selling|communication|sales", core=1, certs=(("ecommerce_level", 0.05),),
       hold=0.1, age=(18, 35), age_posted=0.85, male=0.3, age_profile="young", edu="high",
       housing=0.3, insurance=0.35, openings=2, local=0.45),
    _j("convenience_clerk", "便利店店员", "wholesale_retail", "retail", 10, 4200,
       "便利店店员|便利店营业员|夜班店员|Convenience store clerk",
       "cashier|merchandising|communication", age=(18, 45), male=0.4, age_profile="young",
       housing=0.2, insurance=0.5, etype=(("full_time", 0.7), ("part_time", 0.3)), openings=2,
       local=0.65),
    # ---- accommodation and catering
    _j("chef", "厨师", "accommodation_catering", "culinary", 25, 6800,
       "厨师|炒锅厨师|中餐厨师|厨师（川菜）|大厨|Chef|厨帅",
       "stir_fry|chinese_cuisine|food_prep", core=1, certs=(("health", 0.95), ("chef_level", 0.2)),
       hold=0.85, age=(20, 55), male=0.8, housing=0.8, insurance=0.4, openings=1, local=0.5),
    _j("kitchen_helper", "帮厨", "accommodation_catering", "culinary", 20, 4700,
       "帮厨|切配|打荷|厨房帮工|Kitchen helper", "food_prep|dishwashing|stir_fry", core=1,
       certs=(("health", 0.95),), hold=0.8, age=(18, 55), male=0.55, age_profile="broad",
       housing=0.8, insurance=0.35, openings=2, local=0.5),
    _j("waiter", "服务员", "accommodation_catering", "hospitality", 25, 4300,
       "服务员|餐厅服务员|传菜员|服务员 包吃住|Waiter|服务圆",
       "table_service|communication|cashier", core=1, certs=(("health", 0.9),), hold=0.75,
       age=(18, 40), age_posted=0.7, male=0.35, age_profile="young", housing=0.8, insurance=0.35,
       etype=(("full_time", 0.8), ("part_time", 0.2)), openings=4, local=0.5),
    _j("pastry_cook", "面点师", "accommodation_catering", "pastry", 8, 5800,
       "面点师|白案师傅|面点师傅|包子师傅|Pastry cook", "pastry|baking", core=1,
       certs=(("health", 0.95), ("pastry_level", 0.15)), hold=0.8, age=(20, 55), male=0.5,
       housing=0.8, insurance=0.35, openings=1, local=0.5),
    _j("dishwasher", "洗碗工", "accommodation_catering", "hospitality", 8, 4000,
       "洗碗工|洗碗阿姨|餐具清洗工|Dishwasher", "dishwashing|house_cleaning",
       certs=(("health", 0.9),), hold=0.75, age=(30, 62), male=0.2, age_profile="old",
       housing=0.6, insurance=0.2, openings=2, local=0.65),
    _j("room_attendant", "客房服务员", "accommodation_catering", "hospitality", 8, 4300,
       "客房服务员|酒店客房服务员|做房阿姨|Room attendant", "room_cleaning|house_cleaning",
       certs=(("health", 0.6),), hold=0.7, age=(20, 55), male=0.15, age_profile="broad",
       housing=0.7, insurance=0.5, openings=3, local=0.5),
    _j("drinks_maker", "饮品店员", "accommodation_catering", "pastry", 6, 4200,
       "饮品店员|奶茶店员|咖啡师学徒|茶饮店员|Barista", "beverage|cashier|communication", core=1,
       certs=(("health", 0.9),), hold=0.75, age=(18, 35), age_posted=0.8, male=0.3,
       age_profile="young", housing=0.4, insurance=0.4,
       etype=(("full_time", 0.7), ("part_time", 0.3)), openings=2, local=0.55),
    # ---- resident services, repair and other services
    _j("housekeeper", "家政服务员", "resident_services", "housekeeping", 18, 5800,
       "家政服务员|住家保姆|保姆|钟点工|家政阿姨|Housekeeper|家政服务圆",
       "house_cleaning|home_cooking|elder_care", core=1, certs=(("housekeeping_level", 0.2),),
       hold=0.25, age=(30, 60), male=0.05, age_profile="old", housing=0.6, insurance=0.15,
       etype=(("full_time", 0.8), ("part_time", 0.2)), openings=1, local=0.45),
    _j("nanny", "育婴员", "resident_services", "nanny", 8, 6800,
       "育婴员|育儿嫂|育婴师|住家育儿嫂|Nanny", "infant_care|complementary_food|home_cooking",
       core=1, certs=(("nanny_level", 0.5), ("health", 0.4)), hold=0.45, age=(25, 55), male=0.02,
       age_profile="prime", housing=0.6, insurance=0.15, openings=1, local=0.4),
    _j("maternity_nurse", "月嫂", "resident_services", "maternity", 7, 9500,
       "月嫂|金牌月嫂|母婴护理师|Maternity nurse|月娉",
       "postpartum_care|newborn_care|lactation|home_cooking", core=2,
       certs=(("maternity_level", 0.6), ("health", 0.5)), hold=0.5, age=(30, 55), male=0.0,
       age_profile="prime", housing=0.9, insurance=0.1, openings=1, local=0.4),
    _j("cleaner", "保洁员", "resident_services", "housekeeping", 20, 4000,
       "保洁员|保洁阿姨|商场保洁|保洁员 日结|Cleaner|保结员",
       "house_cleaning|waste_sorting", age=(30, 65), age_posted=0.5, male=0.25,
       age_profile="old", housing=0.2, insurance=0.3, etype=(("full_time", 0.75), ("part_time", 0.25)),
       openings=3, local=0.7),
    _j("auto_mechanic", "汽修工", "resident_services", "auto_repair", 12, 6300,
       "汽修工|汽车维修工|汽修学徒|机修师傅（汽车）|Auto mechanic|汽修功",
       "auto_repair|tyre|bodywork", core=1, certs=(("auto_level", 0.2),), hold=0.25, age=(18, 50),
       male=0.97, age_profile="young", housing=0.6, insurance=0.45, openings=2, local=0.5),
    _j("appliance_technician", "家电维修工", "resident_services", "appliance", 8, 6300,
       "家电维修工|空调安装工|空调维修师傅|家电售后维修|Appliance technician",
       "appliance_repair|ac_install|wiring|work_at_height", core=1,
       certs=(("refrigeration", 0.6), ("height", 0.4), ("appliance_level", 0.1)), hold=0.45,
       age=(20, 50), male=0.97, housing=0.4, insurance=0.4, openings=2, local=0.5),
    _j("phone_technician", "手机维修", "resident_services", "phone_repair", 3, 5200,
       "手机维修|手机维修师傅|手机维修学徒|Phone repair technician",
       "phone_repair|soldering", core=1, certs=(("phone_level", 0.1),), hold=0.15, age=(18, 40),
       male=0.85, age_profile="young", edu="mid", housing=0.5, insurance=0.3, openings=1, local=0.5),
    _j("hairdresser", "美发师", "resident_services", "hairdressing", 8, 6200,
       "美发师|发型师|美发助理|洗头工|Hairdresser", "haircut|hair_colouring|communication",
       core=1, certs=(("hair_level", 0.1),), hold=0.2, age=(18, 40), male=0.5,
       age_profile="young", housing=0.6, insurance=0.2, openings=2, local=0.5),
    _j("beautician", "美容师", "resident_services", "beauty", 6, 5800,
       "美容师|美甲师|美睫师|美容学徒|Beautician", "facial|nail|communication", core=1,
       certs=(("beauty_level", 0.15),), hold=0.2, age=(18, 38), age_posted=0.8, male=0.05,
       age_profile="young", housing=0.6, insurance=0.25, openings=2, local=0.5),
    _j("massage_therapist", "足疗按摩师", "resident_services", "massage", 6, 6400,
       "足疗按摩师|足疗技师|推拿师|按摩师（可培训）|Massage therapist", "massage|communication",
       core=1, certs=(("massage_level", 0.2),), hold=0.25, age=(18, 50), male=0.4, housing=0.85,
       insurance=0.15, openings=4, local=0.4),
    _j("mover", "搬家工", "resident_services", "logistics", 4, 6000,
       "搬家工|搬家师傅|搬家工 日结|Mover", "manual_handling|car_driving", age=(18, 55),
       male=0.99, housing=0.3, insurance=0.1, etype=(("full_time", 0.6), ("part_time", 0.4)),
       openings=3, local=0.55),
    # ---- other industries (about 17%)
    _j("security_guard", "保安", "business_services", "security", 20, 4300,
       "保安|保安员|小区保安|门岗保安|Security guard|保按",
       "patrol|cctv|fire_safety", core=1, certs=(("security", 0.6),), hold=0.4, age=(18, 60),
       age_posted=0.8, male=0.92, age_profile="old", housing=0.6, insurance=0.55,
       etype=(("full_time", 0.92), ("public_welfare", 0.08)), openings=4, local=0.65),
    _j("property_cleaner", "物业保洁", "real_estate", "housekeeping", 12, 3700,
       "物业保洁|小区保洁员|物业清洁工|Property cleaner", "house_cleaning|waste_sorting",
       age=(35, 65), age_posted=0.6, male=0.2, age_profile="old", housing=0.2, insurance=0.4,
       openings=3, local=0.75),
    _j("property_maintenance", "物业维修工", "real_estate", "electrical", 6, 5300,
       "物业维修工|物业水电工|工程维修工|Property maintenance technician",
       "property_repair|wiring|plumbing", core=1, certs=(("low_voltage", 0.8),), hold=0.55,
       age=(22, 55), male=0.97, housing=0.4, insurance=0.65, openings=1, local=0.6),
    _j("elderly_carer", "养老护理员", "health_social", "elderly_care", 10, 5000,
       "养老护理员|养老院护理员|护理员|Elderly carer|养老护理圆",
       "elder_care|personal_care|home_cooking", core=1, certs=(("elderly_level", 0.5),),
       hold=0.35, age=(25, 60), male=0.15, age_profile="old", housing=0.7, insurance=0.5,
       openings=3, local=0.55),
    _j("hospital_carer", "护工", "health_social", "elderly_care", 6, 5200,
       "护工|医院护工|陪护工|Hospital care worker", "patient_care|personal_care", core=1,
       certs=(("elderly_level", 0.3),), hold=0.3, age=(30, 62), male=0.3, age_profile="old",
       housing=0.4, insurance=0.25, openings=3, local=0.55),
    _j("farm_worker", "农业工人", "agriculture", "agriculture", 12, 3900,
       "农业工人|农场工人|种植工|大棚工人|Farm worker",
       "planting|fertilising|greenhouse|farm_machinery", core=1, certs=(("farm_level", 0.05),),
       hold=0.1, age=(18, 65), age_posted=0.3, male=0.6, age_profile="old", housing=0.5,
       insurance=0.1, etype=(("seasonal", 0.55), ("full_time", 0.45)), openings=6, local=0.85),
    _j("fruit_picker", "果园采摘", "agriculture", "agriculture", 6, 4200,
       "果园采摘|采摘工|摘棉花工|采茶工|水果采摘 日结|Fruit picker",
       "fruit_picking|grading|manual_handling", core=1, age=(18, 65), age_posted=0.3, male=0.45,
       age_profile="old", housing=0.6, insurance=0.05, etype=(("seasonal", 0.9), ("part_time", 0.1)),
       openings=15, local=0.75),
    _j("livestock_worker", "养殖工", "agriculture", "livestock", 8, 4800,
       "养殖工|养猪场饲养员|养鸡场工人|饲养员|Livestock worker",
       "livestock_feeding|animal_health", core=1, certs=(("livestock_level", 0.1),), hold=0.15,
       age=(18, 60), age_posted=0.5, male=0.7, age_profile="old", housing=0.9, insurance=0.4,
       openings=3, local=0.7),
    _j("data_labeler", "数据标注员", "it_services", "data_labeling", 4, 4700,
       "数据标注员|AI数据标注|图片标注员|Data labeller", "data_labeling|computer_basic|typing",
       core=1, certs=(("data_level", 0.1),), hold=0.1, age=(18, 35), age_posted=0.8, male=0.45,
       age_profile="young", edu="high", housing=0.3, insurance=0.6, openings=5, local=0.5,
       education_min="senior_high"),
    _j("sanitation_worker", "环卫工", "public_facilities", "housekeeping", 8, 3600,
       "环卫工|道路保洁员|环卫工人|清洁工（环卫）|Street sweeper",
       "street_sweeping|waste_sorting", age=(30, 65), age_posted=0.6, male=0.55,
       age_profile="old", housing=0.1, insurance=0.6,
       etype=(("full_time", 0.75), ("public_welfare", 0.25)), openings=5, local=0.8),
    _j("landscaper", "绿化工", "public_facilities", "landscaping", 5, 4000,
       "绿化工|园林工人|绿化养护工|Gardener", "landscaping|pruning|planting", core=1,
       certs=(("green_level", 0.05),), hold=0.1, age=(25, 65), age_posted=0.5, male=0.6,
       age_profile="old", housing=0.2, insurance=0.45, openings=4, local=0.75),
    _j("public_welfare_post", "公益性岗位", "public_admin", "housekeeping", 5, 2600,
       "公益性岗位|公益性岗位（保洁）|乡村公益岗|护林员|公益性岗位 巡逻员|Public-welfare post",
       "patrol|house_cleaning|street_sweeping", core=1, age=(40, 65), age_posted=0.9, male=0.5,
       age_profile="old", housing=0.0, insurance=0.9, etype=(("public_welfare", 1.0),),
       openings=3, local=0.95),
)

# --------------------------------------------------------------------------- course families


@dataclass(frozen=True)
class CourseFamily:
    """A kind of vocational course: what it teaches and awards.

    ``fee`` is the full fee in CNY, ``days`` the usual duration, ``online`` the
    probability an instance is online or blended.
    """

    key: str
    titles: tuple[str, ...]
    skills: tuple[str, ...]
    certificate: str
    fee: int
    days: int
    online: float = 0.1
    age: tuple[int, int] = (16, 60)


def _f(key: str, titles: str, skills: str, certificate: str, fee: int, days: int, **kw: object) -> CourseFamily:
    return CourseFamily(key, tuple(titles.split("|")), tuple(skills.split("|")), certificate, fee, days, **kw)  # type: ignore[arg-type]


COURSE_FAMILIES: tuple[CourseFamily, ...] = (
    _f("welding", "焊工（初级）培训班|特种作业（焊接与热切割）取证班|电焊工技能培训|二保焊实操培训",
       "welding|co2_welding|argon_welding|gas_cutting", "weld", 2200, 20, age=(18, 60)),
    _f("electrical", "低压电工作业取证培训|电工（中级工）培训班|水电工实操培训",
       "low_voltage_work|wiring|electrical_maintenance|plumbing", "low_voltage", 1800, 15, online=0.2, age=(18, 60)),
    _f("work_at_height", "高处作业（登高架设）取证班|架子工安全培训", "scaffolding|work_at_height", "height", 1200, 7, age=(18, 55)),
    _f("crane", "塔式起重机司机培训班|塔吊司机取证培训", "tower_crane_op|signalling", "tower_crane", 3500, 30, age=(18, 55)),
    _f("excavator", "挖掘机操作培训班|挖机速成班", "excavator_op|loader_op", "excavator", 4500, 30, age=(18, 55)),
    _f("construction_trades", "建筑工种（砌筑/钢筋/木工）技能培训|建筑劳务技能提升班",
       "bricklaying|rebar_tying|formwork|plastering|painting", "construction_level", 1200, 15, age=(18, 60)),
    _f("forklift", "叉车司机（N1）取证培训|叉车操作培训班", "forklift_driving|inbound_outbound", "forklift", 1500, 10, age=(18, 55)),
    _f("cnc", "数控车工（中级）培训班|CNC编程与操作培训", "cnc_operation|cnc_programming|measuring_tools|lathe",
       "cnc_level", 3000, 40, online=0.2, age=(16, 45)),
    _f("assembly", "企业新型学徒制（装配）培训|普工岗前技能培训", "assembly|assembly_line|packing|injection_molding",
       "apprentice", 600, 7, online=0.3, age=(16, 55)),
    _f("electronics", "电子装配（SMT/插件）岗前培训|电子产品装配工培训", "smt|through_hole|soldering",
       "electronics_level", 800, 10, online=0.2, age=(16, 45)),
    _f("sewing", "缝纫工（初级）培训班|服装缝纫技能培训", "sewing|garment_cutting|ironing", "sewing_level", 900, 20, age=(16, 55)),
    _f("qc", "质量检验员培训班|品质管理与检验培训", "quality_inspection|measuring_tools|production_mgmt",
       "qc_level", 1000, 10, online=0.4, age=(16, 50)),
    _f("driving", "B2/A2驾驶证培训（货运）|货车司机从业资格培训", "truck_driving|route_knowledge",
       "licence_b2", 9000, 60, age=(21, 60)),
    _f("ride_hailing", "网约车驾驶员从业资格培训|网约车考证辅导班", "car_driving|route_knowledge|phone_app",
       "ride_hailing", 500, 5, online=0.6, age=(21, 60)),
    _f("platform", "新就业形态劳动者（骑手）岗前培训|电动车安全驾驶培训", "e_bike|route_knowledge|phone_app",
       "platform_training", 300, 3, online=0.6, age=(18, 60)),
    _f("logistics", "仓储管理员（初级工）培训|快递物流从业人员培训", "warehouse_mgmt|inbound_outbound|stocktaking|sorting",
       "warehouse_level", 900, 10, online=0.4, age=(16, 55)),
    _f("ecommerce", "电商直播带货实训班|电子商务师（初级）培训|农村电商培训",
       "livestream_selling|livestream_ops|ecommerce_ops|video_editing|customer_service",
       "ecommerce_level", 1500, 15, online=0.6, age=(16, 45)),
    _f("retail", "商超收银与营销技能培训|零售门店服务培训", "cashier|sales|merchandising|communication",
       "retail_level", 500, 5, online=0.5, age=(16, 55)),
    _f("culinary", "中式烹调师（初级）培训班|厨师技能培训|特色小吃制作培训", "stir_fry|chinese_cuisine|food_prep",
       "chef_level", 2500, 30, age=(16, 60)),
    _f("pastry", "中式面点师培训班|面点小吃实操培训|奶茶饮品制作培训", "pastry|baking|beverage",
       "pastry_level", 2000, 20, age=(16, 55)),
    _f("hospitality", "餐厅服务员技能培训|酒店客房服务培训", "table_service|room_cleaning|communication",
       "hospitality_level", 400, 5, online=0.3, age=(16, 55)),
    _f("housekeeping", "家政服务员（初级）培训|巾帼家政技能培训|保洁技能培训", "house_cleaning|home_cooking|elder_care",
       "housekeeping_level", 800, 10, online=0.2, age=(18, 60)),
    _f("nanny", "育婴员（五级）培训班|育儿嫂技能培训", "infant_care|complementary_food", "nanny_level", 2000, 15, online=0.3, age=(18, 55)),
    _f("maternity", "母婴护理（月嫂）培训班|金牌月嫂实操培训", "postpartum_care|newborn_care|lactation",
       "maternity_level", 3000, 20, online=0.2, age=(20, 55)),
    _f("elderly_care", "养老护理员（初级）培训|失能老人照护技能培训", "elder_care|personal_care|patient_care",
       "elderly_level", 1500, 15, online=0.2, age=(18, 60)),
    _f("auto_repair", "汽车维修工（中级）培训|新能源汽车维修培训", "auto_repair|tyre|bodywork", "auto_level", 3500, 45, age=(16, 45)),
    _f("appliance", "制冷与空调作业取证班|家电维修技能培训", "appliance_repair|ac_install", "refrigeration", 1800, 15, age=(18, 55)),
    _f("phone_repair", "手机维修技能培训班", "phone_repair|soldering", "phone_level", 2500, 30, online=0.3, age=(16, 45)),
    _f("hairdressing", "美发师（初级）培训班|剪发烫染实操培训", "haircut|hair_colouring", "hair_level", 3000, 30, age=(16, 45)),
    _f("beauty", "美容美甲培训班|美容师（初级）培训", "facial|nail", "beauty_level", 2500, 20, age=(16, 45)),
    _f("massage", "保健按摩师培训班|足疗推拿技能培训", "massage", "massage_level", 1800, 20, age=(16, 55)),
    _f("security", "保安员资格培训|保安员上岗培训", "patrol|cctv|fire_safety", "security", 600, 5, online=0.3, age=(18, 60)),
    _f("agriculture", "高素质农民培育班|设施农业种植技术培训|果树栽培技术培训",
       "planting|fertilising|greenhouse|farm_machinery|fruit_picking", "farm_level", 0, 10, online=0.3, age=(18, 65)),
    _f("livestock", "畜禽养殖技术培训|家畜饲养员培训", "livestock_feeding|animal_health", "livestock_level", 0, 10, online=0.3, age=(18, 65)),
    _f("landscaping", "园林绿化工培训班", "landscaping|pruning", "green_level", 600, 7, age=(18, 60)),
    _f("data_labeling", "人工智能训练师（数据标注）培训|数据标注员岗前培训", "data_labeling|computer_basic|typing",
       "data_level", 1200, 15, online=0.7, age=(16, 40)),
)


# --------------------------------------------------------------------------- indices


@dataclass(frozen=True)
class Vocabulary:
    """Integer ids for everything above, built once; arrays are indexed by id."""

    industries: tuple[Industry, ...] = INDUSTRIES
    skills: tuple[Skill, ...] = SKILLS
    certificates: tuple[Certificate, ...] = CERTIFICATES
    job_types: tuple[JobType, ...] = JOB_TYPES
    families: tuple[CourseFamily, ...] = COURSE_FAMILIES

    @cached_property
    def industry_id(self) -> dict[str, int]:
        return {ind.key: i for i, ind in enumerate(self.industries)}

    @cached_property
    def skill_id(self) -> dict[str, int]:
        return {s.key: i for i, s in enumerate(self.skills)}

    @cached_property
    def cert_id(self) -> dict[str, int]:
        return {c.key: i for i, c in enumerate(self.certificates)}

    @cached_property
    def type_id(self) -> dict[str, int]:
        return {t.key: i for i, t in enumerate(self.job_types)}

    @cached_property
    def family_id(self) -> dict[str, int]:
        return {f.key: i for i, f in enumerate(self.families)}

    def group_of_industry_label(self) -> dict[str, str]:
        """Industry label as written in employers.csv -> calibration group."""
        return {ind.label: ind.group for ind in self.industries}

    def skill_forms(self) -> dict[str, str]:
        """Every surface form of a skill -> its latent key (for evaluating normalisers)."""
        out: dict[str, str] = {}
        for s in self.skills:
            for form in (*s.zh, *s.en, *s.typos):
                out.setdefault(form, s.key)
        return out

    def certificate_forms(self) -> dict[str, str]:
        """Every surface form of a certificate -> its latent key."""
        out: dict[str, str] = {}
        for c in self.certificates:
            for form in (*c.forms, *c.en):
                out.setdefault(form, c.key)
        return out

    def validate(self) -> None:
        """Fail loudly on a dangling key or an id space the bitmasks cannot hold."""
        if len(self.certificates) > 64:
            raise ValueError("certificates are stored in a 64-bit mask; keep at most 64")
        if len(self.skills) > 192:
            raise ValueError("skills are stored in three 64-bit words; keep at most 192")
        for t in self.job_types:
            if t.industry not in self.industry_id:
                raise ValueError(f"job type {t.key}: unknown industry {t.industry}")
            if t.family not in self.family_id:
                raise ValueError(f"job type {t.key}: unknown course family {t.family}")
            for s in t.skills:
                if s not in self.skill_id:
                    raise ValueError(f"job type {t.key}: unknown skill {s}")
            for c, _ in t.certs:
                if c not in self.cert_id:
                    raise ValueError(f"job type {t.key}: unknown certificate {c}")
        for f in self.families:
            if f.certificate not in self.cert_id:
                raise ValueError(f"course family {f.key}: unknown certificate {f.certificate}")
            for s in f.skills:
                if s not in self.skill_id:
                    raise ValueError(f"course family {f.key}: unknown skill {s}")


VOCABULARY = Vocabulary()
VOCABULARY.validate()
